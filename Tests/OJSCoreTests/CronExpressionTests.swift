import Foundation
import XCTest

@testable import OJSCore

final class CronExpressionTests: XCTestCase {
    // MARK: helpers

    /// Unix milliseconds for an ISO 8601 instant such as `2026-03-09T06:30:00Z` or `…-04:00`.
    /// Foundation's parser is used on purpose: it is independent of the code under test.
    private func iso(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Int64 {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: text) else {
            XCTFail("bad ISO instant in test: \(text)", file: file, line: line)
            return 0
        }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    private func zone(_ identifier: String, file: StaticString = #filePath, line: UInt = #line) -> TimeZone {
        guard let tz = TimeZone(identifier: identifier) else {
            XCTFail("unknown time zone \(identifier)", file: file, line: line)
            return TimeZone(secondsFromGMT: 0) ?? .current
        }
        return tz
    }

    private var utc: TimeZone { zone("UTC") }

    private func cron(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> CronExpression? {
        do {
            return try CronExpression.parse(text)
        } catch {
            XCTFail("'\(text)' should parse but threw: \(error.message)", file: file, line: line)
            return nil
        }
    }

    /// Asserts that successive fire times after `start` are exactly `expected` (ISO instants).
    private func assertFires(
        _ text: String,
        after start: String,
        in tz: TimeZone,
        _ expected: [String],
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        guard let expression = cron(text, file: file, line: line) else { return }
        var t = iso(start, file: file, line: line)
        for want in expected {
            guard let got = expression.next(after: t, in: tz) else {
                XCTFail("'\(text)' returned nil after \(Timestamp.format(millis: t)); wanted \(want)", file: file, line: line)
                return
            }
            XCTAssertEqual(
                got,
                iso(want, file: file, line: line),
                "'\(text)' after \(Timestamp.format(millis: t)) gave \(Timestamp.format(millis: got)), wanted \(want)",
                file: file,
                line: line
            )
            t = got
        }
    }

    /// Asserts that parsing fails with an `invalid_request` error whose message contains each of `fragments`.
    private func assertRejects(
        _ text: String,
        mentioning fragments: [String],
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        do {
            let parsed = try CronExpression.parse(text)
            XCTFail("'\(text)' should be rejected but parsed as \(parsed)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, .invalidRequest, file: file, line: line)
            XCTAssertEqual(error.details["field"], .string("expression"), file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(
                    error.message.contains(fragment),
                    "message for '\(text)' lacks '\(fragment)': \(error.message)",
                    file: file,
                    line: line
                )
            }
        }
    }

    // MARK: parsing

    func testDescriptorsMatchTheirFiveFieldEquivalents() {
        let pairs = [
            ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
            ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
            ("@hourly", "0 * * * *"), ("@DAILY", "0 0 * * *"),
        ]
        for (descriptor, fields) in pairs {
            guard let a = cron(descriptor), let b = cron(fields) else { continue }
            XCTAssertEqual(a.schedule, b.schedule, descriptor)
            XCTAssertEqual(a.text, descriptor)
        }
    }

    func testDescriptorsNextFire() {
        // 2026-03-15 is a Sunday.
        let start = "2026-03-15T12:00:00Z"
        assertFires("@yearly", after: start, in: utc, ["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"])
        assertFires("@annually", after: start, in: utc, ["2027-01-01T00:00:00Z"])
        assertFires("@monthly", after: start, in: utc, ["2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"])
        assertFires("@weekly", after: start, in: utc, ["2026-03-22T00:00:00Z", "2026-03-29T00:00:00Z"])
        assertFires("@daily", after: start, in: utc, ["2026-03-16T00:00:00Z", "2026-03-17T00:00:00Z"])
        assertFires("@midnight", after: start, in: utc, ["2026-03-16T00:00:00Z"])
        assertFires("@hourly", after: start, in: utc, ["2026-03-15T13:00:00Z", "2026-03-15T14:00:00Z"])
    }

    func testEveryIntervals() {
        let cases: [(String, Int64)] = [
            ("@every 30s", 30), ("@every 5m", 300), ("@every 1h30m", 5400), ("@every 1.5h", 5400),
            ("@every 1s", 1), ("@every 2h45m10s", 9910), ("@every 1000ms", 1),
        ]
        for (text, seconds) in cases {
            guard let expression = cron(text) else { continue }
            XCTAssertEqual(expression.schedule, .every(seconds: seconds), text)
        }
        // Rounded down to the whole second, then one interval on.
        guard let halfHour = cron("@every 30m") else { return }
        XCTAssertEqual(halfHour.next(after: 1_767_225_600_750, in: utc), 1_767_225_600_000 + 1_800_000)
        XCTAssertEqual(halfHour.next(after: 1_767_225_600_000, in: zone("Asia/Tokyo")), 1_767_227_400_000)
        XCTAssertEqual(halfHour.next(after: -1_500, in: utc), -2_000 + 1_800_000)
    }

    func testEveryRejectsBadDurations() {
        assertRejects("@every", mentioning: ["@every", "duration"])
        assertRejects("@every 500ms", mentioning: ["500ms", "at least 1s"])
        assertRejects("@every 0s", mentioning: ["at least 1s"])
        assertRejects("@every -5m", mentioning: ["-5m"])
        assertRejects("@every 1x", mentioning: ["1x"])
        assertRejects("@every 5", mentioning: ["'5'"])
        assertRejects("@every 1.5s", mentioning: ["whole number of seconds"])
        assertRejects("@every 1m 2m", mentioning: ["exactly one duration"])
    }

    func testTextIsTrimmedAndEqualityFollowsIt() {
        guard let a = cron("  */5 * * * *\n"), let b = cron("*/5 * * * *") else { return }
        XCTAssertEqual(a.text, "*/5 * * * *")
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.description, "*/5 * * * *")
        XCTAssertNotEqual(cron("@daily"), cron("@hourly"))
        // Tabs and repeated spaces separate fields too.
        XCTAssertEqual(cron("0\t0  * * *")?.schedule, cron("0 0 * * *")?.schedule)
    }

    func testEveryFiveMinutes() {
        assertFires(
            "*/5 * * * *",
            after: "2026-01-01T00:00:00Z",
            in: utc,
            ["2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z", "2026-01-01T00:15:00Z"]
        )
        assertFires("*/5 * * * *", after: "2026-01-01T23:57:00Z", in: utc, ["2026-01-02T00:00:00Z"])
        assertFires("*/5 * * * *", after: "2026-12-31T23:55:00Z", in: utc, ["2027-01-01T00:00:00Z"])
        // Milliseconds: strictly after, result on a whole second.
        guard let expression = cron("*/5 * * * *") else { return }
        let mid = iso("2026-01-01T00:03:27Z") + 500
        XCTAssertEqual(expression.next(after: mid, in: utc), iso("2026-01-01T00:05:00Z"))
        XCTAssertEqual(expression.next(after: iso("2026-01-01T00:05:00Z") - 1, in: utc), iso("2026-01-01T00:05:00Z"))
    }

    func testListsRangesAndSteps() {
        guard let e = cron("0,30 9-17/2 * * *"), case .fields(let f) = e.schedule else { return }
        XCTAssertEqual(f.minutes, 1 << 0 | 1 << 30)
        XCTAssertEqual(f.hours, 1 << 9 | 1 << 11 | 1 << 13 | 1 << 15 | 1 << 17)
        assertFires(
            "0,30 9-17/2 * * *",
            after: "2026-01-01T00:00:00Z",
            in: utc,
            ["2026-01-01T09:00:00Z", "2026-01-01T09:30:00Z", "2026-01-01T11:00:00Z"]
        )
        assertFires(
            "0,30 9-17/2 * * *",
            after: "2026-01-01T17:00:00Z",
            in: utc,
            ["2026-01-01T17:30:00Z", "2026-01-02T09:00:00Z"]
        )
        // `a/n` runs from a to the end of the field.
        assertFires(
            "10/20 * * * *",
            after: "2026-01-01T00:00:00Z",
            in: utc,
            ["2026-01-01T00:10:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:50:00Z", "2026-01-01T01:10:00Z"]
        )
        // Mixed list of singles, ranges and stepped ranges.
        guard let m = cron("1,5-7,50-59/4 * * * *"), case .fields(let mf) = m.schedule else { return }
        XCTAssertEqual(mf.minutes, [1, 5, 6, 7, 50, 54, 58].reduce(UInt64(0)) { $0 | 1 << UInt64($1) })
        assertFires(
            "0 0 1 1-12/3 *",
            after: "2026-01-01T00:00:00Z",
            in: utc,
            ["2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z"]
        )
    }

    func testMonthAndWeekdayNames() {
        XCTAssertEqual(cron("0 12 * JAN,jul mon-fri")?.schedule, cron("0 12 * 1,7 1-5")?.schedule)
        XCTAssertEqual(cron("0 0 * Dec Sat")?.schedule, cron("0 0 * 12 6")?.schedule)
        // 2026-01-30 is a Friday; the next weekday noon in January or July is Wednesday 2026-07-01.
        assertFires(
            "0 12 * JAN,jul mon-fri",
            after: "2026-01-30T13:00:00Z",
            in: utc,
            ["2026-07-01T12:00:00Z", "2026-07-02T12:00:00Z", "2026-07-03T12:00:00Z", "2026-07-06T12:00:00Z"]
        )
    }

    func testZeroAndSevenAreBothSunday() {
        let zero = cron("0 0 * * 0")?.schedule
        XCTAssertEqual(zero, cron("0 0 * * 7")?.schedule)
        XCTAssertEqual(zero, cron("0 0 * * SUN")?.schedule)
        XCTAssertEqual(cron("0 0 * * 5-7")?.schedule, cron("0 0 * * 0,5,6")?.schedule)
        XCTAssertEqual(cron("0 0 * * 0-7")?.schedule, cron("0 0 * * 0-6")?.schedule)
        assertFires("0 0 * * 7", after: "2026-03-10T00:00:00Z", in: utc, ["2026-03-15T00:00:00Z", "2026-03-22T00:00:00Z"])
    }

    func testSixFieldSeconds() {
        assertFires(
            "*/15 * * * * *",
            after: "2026-01-01T00:00:07Z",
            in: utc,
            ["2026-01-01T00:00:15Z", "2026-01-01T00:00:30Z", "2026-01-01T00:00:45Z", "2026-01-01T00:01:00Z"]
        )
        assertFires("30 0 12 * * *", after: "2026-01-01T00:00:00Z", in: utc, ["2026-01-01T12:00:30Z", "2026-01-02T12:00:30Z"])
        assertFires("* * * * * *", after: "2026-01-01T00:00:00Z", in: utc, ["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"])
        // A 5-field expression fires at second 0.
        XCTAssertEqual(cron("0 * * * *")?.schedule, cron("0 0 * * * *")?.schedule)
    }

    func testLastDayOfMonth() {
        assertFires(
            "0 0 L * *",
            after: "2026-01-10T00:00:00Z",
            in: utc,
            ["2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"]
        )
        assertFires("0 0 L 2 *", after: "2027-03-01T00:00:00Z", in: utc, ["2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z"])
        assertFires("0 0 1,l * *", after: "2026-04-15T00:00:00Z", in: utc, ["2026-04-30T00:00:00Z", "2026-05-01T00:00:00Z"])
    }

    func testNthAndLastWeekdayOfMonth() {
        // January 2026 Fridays: 2, 9, 16, 23, 30.
        assertFires("0 10 * * 5#2", after: "2026-01-01T00:00:00Z", in: utc, ["2026-01-09T10:00:00Z", "2026-02-13T10:00:00Z"])
        assertFires("0 10 * * FRI#1", after: "2026-01-01T00:00:00Z", in: utc, ["2026-01-02T10:00:00Z"])
        // The first fifth Monday of 2026 is March 30.
        assertFires("0 0 * * 1#5", after: "2026-01-01T00:00:00Z", in: utc, ["2026-03-30T00:00:00Z"])
        assertFires("0 0 * * 5L", after: "2026-01-01T00:00:00Z", in: utc, ["2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z"])
        assertFires("0 0 * * friL", after: "2026-01-01T00:00:00Z", in: utc, ["2026-01-30T00:00:00Z"])
        // Last Sunday, spelled 7L: 2026-03-29.
        assertFires("0 0 * 3 7L", after: "2026-01-01T00:00:00Z", in: utc, ["2026-03-29T00:00:00Z"])
    }

    func testVixieDayOrSemantics() {
        // Both day fields restricted: the 13th OR any Friday (2026-01-13 is a Tuesday).
        assertFires(
            "0 0 13 * 5",
            after: "2026-01-01T00:00:00Z",
            in: utc,
            ["2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z"]
        )
        // Only one restricted: that one alone decides.
        assertFires("0 0 13 * *", after: "2026-01-01T00:00:00Z", in: utc, ["2026-01-13T00:00:00Z", "2026-02-13T00:00:00Z"])
        assertFires("0 0 * * 5", after: "2026-01-01T00:00:00Z", in: utc, ["2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z"])
        assertFires("0 0 ? * 5", after: "2026-01-01T00:00:00Z", in: utc, ["2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z"])
        assertFires("0 0 13 * ?", after: "2026-01-01T00:00:00Z", in: utc, ["2026-01-13T00:00:00Z"])
        // L OR last Friday: January 2026 ends on Saturday the 31st, its last Friday is the 30th.
        assertFires("0 0 L * 5L", after: "2026-01-29T00:00:00Z", in: utc, ["2026-01-30T00:00:00Z", "2026-01-31T00:00:00Z"])
    }

    // MARK: rejection

    func testRejectsInvalidExpressions() {
        assertRejects("", mentioning: ["empty"])
        assertRejects("   ", mentioning: ["empty"])
        assertRejects("not a cron", mentioning: ["3 fields", "expected 5"])
        assertRejects("* * * * * * *", mentioning: ["7 fields", "expected 5", "or 6"])
        assertRejects("*", mentioning: ["1 field;"])
        assertRejects("99 25 32 13 8", mentioning: ["minute", "99", "0-59"])
        assertRejects("0 25 * * *", mentioning: ["hour", "25", "0-23"])
        assertRejects("0 0 32 * *", mentioning: ["day-of-month", "32"])
        assertRejects("0 0 0 * *", mentioning: ["day-of-month", "0"])
        assertRejects("0 0 * 13 *", mentioning: ["month", "13"])
        assertRejects("0 0 * * 8", mentioning: ["day-of-week", "8"])
        assertRejects("60 0 * * * *", mentioning: ["second", "60"])
        assertRejects("*/0 * * * *", mentioning: ["minute", "step", "at least 1"])
        assertRejects("5-1 * * * *", mentioning: ["minute", "5-1"])
        assertRejects("@sometimes", mentioning: ["@sometimes", "unknown"])
        assertRejects("@reboot", mentioning: ["@reboot"])
        assertRejects("@daily 5", mentioning: ["no arguments"])
        assertRejects("a b c d e", mentioning: ["minute", "'a'"])
        assertRejects("0 0 * FOO *", mentioning: ["month", "FOO", "JAN-DEC"])
        assertRejects("0 0 * * funday", mentioning: ["day-of-week", "funday"])
        assertRejects("0 0 15W * *", mentioning: ["day-of-month", "W"])
        assertRejects("0 0 L-3 * *", mentioning: ["day-of-month", "L-3"])
        assertRejects("0 0 * * 5#6", mentioning: ["day-of-week", "#6"])
        assertRejects("0 0 * * 5#0", mentioning: ["#0"])
        assertRejects("0 0 * * L", mentioning: ["day-of-week", "L"])
        assertRejects("0 0 * ? *", mentioning: ["month", "?"])
        assertRejects("1,,2 * * * *", mentioning: ["minute", "empty list element"])
        assertRejects("-5 * * * *", mentioning: ["minute", "missing value"])
        assertRejects("*/x * * * *", mentioning: ["minute", "x"])
        assertRejects("1/2/3 * * * *", mentioning: ["minute", "'/'"])
        assertRejects("99999999999999999999 * * * *", mentioning: ["minute", "out of range"])
    }

    // MARK: next fire in time zones

    func testStrictlyAfterAndWholeSeconds() {
        guard let daily = cron("0 0 * * *") else { return }
        let midnight = iso("2026-01-01T00:00:00Z")
        XCTAssertEqual(daily.next(after: midnight, in: utc), iso("2026-01-02T00:00:00Z"))
        XCTAssertEqual(daily.next(after: midnight - 1, in: utc), midnight)
        XCTAssertEqual(daily.next(after: midnight + 999, in: utc), iso("2026-01-02T00:00:00Z"))
        XCTAssertEqual(midnight, 1_767_225_600_000)
    }

    func testTokyo() {
        let tokyo = zone("Asia/Tokyo")
        // 09:00 JST is 00:00Z.
        assertFires(
            "0 9 * * *",
            after: "2025-12-31T23:00:00Z",
            in: tokyo,
            ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"]
        )
        // Local midnight on the 1st is 15:00Z the day before.
        assertFires(
            "0 0 1 * *",
            after: "2026-01-15T00:00:00Z",
            in: tokyo,
            ["2026-01-31T15:00:00Z", "2026-02-28T15:00:00Z"]
        )
        // Day-of-week is local too: Monday 08:00 JST is Sunday 23:00Z.
        assertFires("0 8 * * MON", after: "2026-03-10T00:00:00Z", in: tokyo, ["2026-03-15T23:00:00Z"])
    }

    func testNewYorkSpringForwardSkipsMissingTime() {
        let ny = zone("America/New_York")
        // 2026-03-08 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day.
        assertFires(
            "30 2 * * *",
            after: "2026-03-07T00:00:00Z",
            in: ny,
            ["2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"]
        )
        assertFires("30 2 * * *", after: "2026-03-08T00:00:00Z", in: ny, ["2026-03-09T02:30:00-04:00"])
        // Hourly: 01:00 EST, then 03:00 EDT, one real hour apart.
        assertFires(
            "0 * * * *",
            after: "2026-03-08T05:30:00Z",
            in: ny,
            ["2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"]
        )
        // Per-second schedules skip the whole missing hour without drifting.
        assertFires("0 0 * * * *", after: "2026-03-08T06:59:59Z", in: ny, ["2026-03-08T07:00:00Z"])
        assertFires("* * * * * *", after: "2026-03-08T06:59:59Z", in: ny, ["2026-03-08T07:00:00Z", "2026-03-08T07:00:01Z"])
    }

    func testNewYorkFallBackFiresRepeatedTimeOnce() {
        let ny = zone("America/New_York")
        // 2026-11-01 02:00 EDT falls back to 01:00 EST: 01:30 happens at 05:30Z and again at 06:30Z.
        assertFires(
            "30 1 * * *",
            after: "2026-11-01T00:00:00Z",
            in: ny,
            ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"]
        )
        // Already fired at the first 01:30: from inside the repeated hour the next is tomorrow.
        assertFires("30 1 * * *", after: "2026-11-01T05:45:00Z", in: ny, ["2026-11-02T01:30:00-05:00"])
        assertFires("30 1 * * *", after: "2026-11-01T06:15:00Z", in: ny, ["2026-11-02T06:30:00Z"])
        // Seconds precision in the overlap.
        assertFires("15 30 1 * * *", after: "2026-11-01T05:00:00Z", in: ny, ["2026-11-01T05:30:15Z", "2026-11-02T06:30:15Z"])
    }

    func testNewYorkFallBackHourlyFiresEveryRealHour() {
        let ny = zone("America/New_York")
        assertFires(
            "0 * * * *",
            after: "2026-11-01T04:30:00Z",
            in: ny,
            ["2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"]
        )
        // From inside the first 01:xx, the repeated 01:00 EST is next, then 01:50 EST comes after 01:50 EDT.
        assertFires(
            "0,50 * * * *",
            after: "2026-11-01T05:45:00Z",
            in: ny,
            ["2026-11-01T05:50:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:50:00Z", "2026-11-01T07:00:00Z"]
        )
        assertFires(
            "*/30 * * * *",
            after: "2026-11-01T04:45:00Z",
            in: ny,
            [
                "2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:30:00Z",
                "2026-11-01T07:00:00Z",
            ]
        )
    }

    func testWholeYearInNewYork() {
        let ny = zone("America/New_York")
        let start = iso("2026-01-01T00:00:00-05:00")
        let end = iso("2027-01-01T00:00:00-05:00")
        func fires(_ text: String) -> [Int64] {
            guard let e = cron(text) else { return [] }
            var out: [Int64] = []
            var t = start
            while let next = e.next(after: t, in: ny), next < end {
                out.append(next)
                t = next
            }
            return out
        }
        // Every real hour exactly once: 8760 fires, each one hour after the previous.
        let hourly = fires("0 * * * *")
        XCTAssertEqual(hourly.count, 8759)  // 01:00 … 23:00 local on the last day; 00:00 Jan 1 is excluded
        XCTAssertTrue(zip(hourly, hourly.dropFirst()).allSatisfy { $1 - $0 == 3_600_000 })
        // Once a day, including both DST days.
        XCTAssertEqual(fires("30 1 * * *").count, 365)
        // 02:30 is missing on 2026-03-08 only.
        let twoThirty = fires("30 2 * * *")
        XCTAssertEqual(twoThirty.count, 364)
        XCTAssertFalse(twoThirty.contains { $0 >= iso("2026-03-08T00:00:00-05:00") && $0 < iso("2026-03-09T00:00:00-04:00") })
    }

    func testImpossibleSchedulesReturnNil() {
        let ny = zone("America/New_York")
        let start = iso("2026-01-01T00:00:00Z")
        for text in ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *", "* * * 30 2 *"] {
            guard let e = cron(text) else { continue }
            for k in 0..<100 { XCTAssertNil(e.next(after: start + Int64(k) * 86_400_000, in: ny), text) }
        }
        // Rare but possible: found more than a year out.
        assertFires("0 0 29 2 *", after: "2026-01-01T00:00:00Z", in: utc, ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"])
    }

    /// Long walks must stay exact (no drift, no brute-force fallback returning nil); speed is
    /// measured in benchmarks/, not here.
    func testTenThousandConsecutiveFiresStayOnSchedule() {
        let ny = zone("America/New_York")
        guard let e = cron("*/5 * * * *") else { return }
        var t = iso("2026-01-01T00:00:00Z")
        for _ in 0..<10_000 {
            guard let next = e.next(after: t, in: ny) else { return XCTFail("unexpected nil") }
            XCTAssertEqual(next - t, 300_000)
            t = next
        }
        XCTAssertEqual(t, iso("2026-02-04T17:20:00Z"))
    }
}
