import Foundation

/// A parsed cron schedule: 5-field (minute hour day-of-month month day-of-week), 6-field
/// (leading seconds), a `@daily`-style descriptor, or `@every <duration>`.
///
/// Wall-clock fields are evaluated in the time zone given to `next(after:in:)`, so one parsed
/// expression serves schedules in any zone. Around DST changes:
/// - a wall time that does not exist (spring forward) is skipped, not shifted;
/// - a wall time that happens twice (fall back) fires once, at its first occurrence, unless the
///   hour field covers all 24 hours: such expressions are periodic within the day, so they fire
///   at every real instant whose wall time matches (`0 * * * *` fires at each real hour).
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// The expression as given (trimmed).
    public let text: String
    let schedule: Schedule

    enum Schedule: Sendable, Equatable {
        case fields(CronFields)
        case every(seconds: Int64)
    }

    public var description: String { text }

    /// Parses 5-field (minute hour day-of-month month day-of-week) and 6-field (leading seconds)
    /// expressions, and the descriptors @yearly/@annually, @monthly, @weekly, @daily/@midnight,
    /// @hourly, and `@every <duration>` (Go-style duration like 30s, 5m, 1h30m; must be >= 1s).
    public static func parse(_ text: String) throws(OJSError) -> CronExpression {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw invalid("cron expression is empty") }
        let tokens = trimmed.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        if tokens[0].hasPrefix("@") {
            return CronExpression(text: trimmed, schedule: try parseDescriptor(tokens))
        }
        switch tokens.count {
        case 5:
            return CronExpression(text: trimmed, schedule: .fields(try CronFields(second: "0", rest: tokens[...])))
        case 6:
            return CronExpression(text: trimmed, schedule: .fields(try CronFields(second: tokens[0], rest: tokens[1...])))
        default:
            let noun = tokens.count == 1 ? "field" : "fields"
            throw invalid(
                "cron expression has \(tokens.count) \(noun); expected 5 (minute hour day-of-month month day-of-week) "
                    + "or 6 (second minute hour day-of-month month day-of-week)"
            )
        }
    }

    /// The first fire time strictly after `millis` (Unix ms), evaluated in `timeZone`; nil if none
    /// within 5 years (e.g. "0 0 30 2 *"). Results are whole seconds (ms part 0).
    public func next(after millis: Int64, in timeZone: TimeZone) -> Int64? {
        let second = floorDiv(millis, 1000)
        switch schedule {
        case .every(let interval):
            let (sum, overflow) = second.addingReportingOverflow(interval)
            guard !overflow else { return nil }
            let (result, overflow2) = sum.multipliedReportingOverflow(by: 1000)
            return overflow2 ? nil : result
        case .fields(let fields):
            // Outside years 1...9999 wall-clock arithmetic stops being meaningful (and could overflow).
            guard second >= -62_135_596_800, second < 253_402_300_799 - 6 * 366 * 86400 else { return nil }
            return fields.next(afterSecond: second, zone: ZoneOffsets(zone: timeZone)).map { $0 * 1000 }
        }
    }

    static func invalid(_ message: String) -> OJSError {
        OJSError.invalid(message, field: "expression")
    }

    private static func parseDescriptor(_ tokens: [String]) throws(OJSError) -> Schedule {
        let name = tokens[0].lowercased()
        if name == "@every" {
            guard tokens.count == 2 else {
                throw invalid("@every takes exactly one duration, e.g. '@every 30s', '@every 1h30m'")
            }
            return .every(seconds: try parseEveryInterval(tokens[1]))
        }
        let equivalent: [String]
        switch name {
        case "@yearly", "@annually": equivalent = ["0", "0", "1", "1", "*"]
        case "@monthly": equivalent = ["0", "0", "1", "*", "*"]
        case "@weekly": equivalent = ["0", "0", "*", "*", "0"]
        case "@daily", "@midnight": equivalent = ["0", "0", "*", "*", "*"]
        case "@hourly": equivalent = ["0", "*", "*", "*", "*"]
        default:
            throw invalid(
                "unknown cron descriptor '\(tokens[0])'; expected @yearly, @annually, @monthly, @weekly, "
                    + "@daily, @midnight, @hourly or @every <duration>"
            )
        }
        guard tokens.count == 1 else { throw invalid("cron descriptor '\(tokens[0])' takes no arguments") }
        return .fields(try CronFields(second: "0", rest: equivalent[...]))
    }

    private static func parseEveryInterval(_ text: String) throws(OJSError) -> Int64 {
        guard let nanos = GoDuration.parseNanos(text) else {
            throw invalid("invalid @every duration '\(text)': expected a Go-style duration such as 30s, 5m or 1h30m")
        }
        guard nanos >= 1_000_000_000 else { throw invalid("invalid @every duration '\(text)': must be at least 1s") }
        // Fire times are whole seconds; a fractional interval would drift off that grid.
        guard nanos % 1_000_000_000 == 0 else {
            throw invalid("invalid @every duration '\(text)': must be a whole number of seconds")
        }
        return nanos / 1_000_000_000
    }
}

// MARK: - Fields

/// The field sets of a cron expression as bitsets: bit `v` set means value `v` matches.
struct CronFields: Sendable, Equatable {
    var seconds: UInt64 = 0
    var minutes: UInt64 = 0
    var hours: UInt64 = 0
    var daysOfMonth: UInt64 = 0  // bits 1...31
    var lastDayOfMonth = false  // `L`
    var months: UInt64 = 0  // bits 1...12
    var daysOfWeek: UInt64 = 0  // bits 0...6, Sunday = 0
    var nthWeekdays: UInt64 = 0  // `d#n`: bit d * 8 + n
    var lastWeekdays: UInt64 = 0  // `dL`: bit d
    // Vixie cron ORs the two day fields when both are restricted, which only a literal `*`/`?` is not.
    var dayOfMonthRestricted = false
    var dayOfWeekRestricted = false

    static let allHours: UInt64 = (1 << 24) - 1

    init(second: String, rest: ArraySlice<String>) throws(OJSError) {
        let f = Array(rest)
        // Parsed left to right so the first bad field is the one reported.
        seconds = try CronFieldKind.second.parse(second).bits
        minutes = try CronFieldKind.minute.parse(f[0]).bits
        hours = try CronFieldKind.hour.parse(f[1]).bits
        let dom = try CronFieldKind.dayOfMonth.parse(f[2])
        months = try CronFieldKind.month.parse(f[3]).bits
        let dow = try CronFieldKind.dayOfWeek.parse(f[4])
        daysOfMonth = dom.bits
        lastDayOfMonth = dom.last
        daysOfWeek = dow.bits
        nthWeekdays = dow.nth
        lastWeekdays = dow.lastWeekdays
        dayOfMonthRestricted = f[2] != "*" && f[2] != "?"
        dayOfWeekRestricted = f[4] != "*" && f[4] != "?"
    }

    func dayMatches(day: Int, daysInMonth: Int, weekday: Int) -> Bool {
        let domMatch = daysOfMonth & (1 << UInt64(day)) != 0 || (lastDayOfMonth && day == daysInMonth)
        let dowMatch =
            daysOfWeek & (1 << UInt64(weekday)) != 0
            || nthWeekdays & (1 << UInt64(weekday * 8 + (day - 1) / 7 + 1)) != 0
            || (lastWeekdays & (1 << UInt64(weekday)) != 0 && day + 7 > daysInMonth)
        if dayOfMonthRestricted && dayOfWeekRestricted { return domMatch || dowMatch }
        return domMatch && dowMatch
    }

    /// The smallest member of `set` that is >= `value`.
    static func next(in set: UInt64, from value: Int) -> Int? {
        guard value < 64 else { return nil }
        let masked = set & (~UInt64(0) << UInt64(value))
        return masked == 0 ? nil : masked.trailingZeroBitCount
    }

    /// The first matching wall-clock time (seconds since 1970 read as if UTC) at or after `wall`,
    /// jumping field by field; nil once past `monthLimit` (year * 12 + month).
    func nextWallMatch(atOrAfter wall: Int64, monthLimit: Int64) -> Int64? {
        let startDay = floorDiv(wall, 86400)
        let secondOfDay = Int(wall - startDay * 86400)
        let civil = Timestamp.civilFromDays(startDay)
        var year = civil.year
        var month = Int(civil.month)
        var day = Int(civil.day)
        var hour = secondOfDay / 3600
        var minute = secondOfDay % 3600 / 60
        var second = secondOfDay % 60

        func advanceMonth() {
            if let m = Self.next(in: months, from: month + 1), m <= 12 {
                month = m
            } else {
                year += 1
                month = months.trailingZeroBitCount
            }
            (day, hour, minute, second) = (1, 0, 0, 0)
        }

        while year * 12 + Int64(month) <= monthLimit {
            guard months & (1 << UInt64(month)) != 0 else {
                advanceMonth()
                continue
            }
            let monthLength = Int(Timestamp.daysInMonth(year: year, month: Int64(month)))
            let firstWeekday = weekday(ofDay: Timestamp.daysFromCivil(year: year, month: Int64(month), day: 1))
            var d = day
            while d <= monthLength, !dayMatches(day: d, daysInMonth: monthLength, weekday: (firstWeekday + d - 1) % 7) {
                d += 1
            }
            guard d <= monthLength else {
                advanceMonth()
                continue
            }
            if d != day {
                day = d
                (hour, minute, second) = (0, 0, 0)
            }
            guard let h = Self.next(in: hours, from: hour) else {
                day += 1
                (hour, minute, second) = (0, 0, 0)
                continue
            }
            if h != hour {
                hour = h
                (minute, second) = (0, 0)
            }
            guard let m = Self.next(in: minutes, from: minute) else {
                hour += 1
                (minute, second) = (0, 0)
                continue
            }
            if m != minute {
                minute = m
                second = 0
            }
            guard let s = Self.next(in: seconds, from: second) else {
                minute += 1
                second = 0
                continue
            }
            let days = Timestamp.daysFromCivil(year: year, month: Int64(month), day: Int64(day))
            return days * 86400 + Int64(hour * 3600 + minute * 60 + s)
        }
        return nil
    }

    /// The first fire instant (Unix seconds) strictly after `t`, or nil if none within 5 years.
    func next(afterSecond t: Int64, zone: ZoneOffsets) -> Int64? {
        let first = t + 1
        let offsetNow = zone.offset(at: first)
        var wall = first + offsetNow
        // A fall-back just ahead maps later instants to earlier wall times; start from there so
        // they are not missed.
        let offsetTomorrow = zone.offset(at: first + 86400)
        if offsetTomorrow < offsetNow {
            if let transition = zone.nextTransition(after: first), transition <= first + 86400 {
                wall = min(wall, transition + zone.offset(at: transition))
            } else {
                wall = first + offsetTomorrow
            }
        }
        let startCivil = Timestamp.civilFromDays(floorDiv(wall, 86400))
        let monthLimit = startCivil.year * 12 + startCivil.month + 60
        let everyRealInstant = hours & Self.allHours == Self.allHours

        // Wall-clock order is not instant order across a fall-back, so keep the earliest instant
        // found and stop only once no later wall time can map to an earlier instant.
        var best: Int64?
        var stopWall = Int64.max
        while wall < stopWall, let match = nextWallMatch(atOrAfter: wall, monthLimit: monthLimit) {
            guard match < stopWall else { break }
            let instants = zone.instants(forWall: match)
            var candidate: Int64?
            if let a = instants.first, a > t {
                candidate = a
            } else if everyRealInstant, let b = instants.second, b > t {
                candidate = b
            }
            if let c = candidate, best.map({ c < $0 }) ?? true {
                best = c
                stopWall = c + max(zone.offset(at: c - 86400), zone.offset(at: c))
            }
            if instants.first == nil, let gapEnd = zone.wallAfterGap(containing: match), gapEnd > match {
                wall = gapEnd
            } else {
                wall = match + 1
            }
        }
        return best
    }
}

/// Days since 1970-01-01 to weekday, Sunday = 0 (1970-01-01 was a Thursday).
private func weekday(ofDay days: Int64) -> Int {
    Int(((days % 7) + 7 + 4) % 7)
}

private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

// MARK: - Time zone offsets

/// UTC offsets of a zone in whole seconds, and the mapping from wall-clock time back to instants.
struct ZoneOffsets {
    let zone: TimeZone

    func offset(at second: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(second))))
    }

    func nextTransition(after second: Int64) -> Int64? {
        guard let date = zone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: TimeInterval(second)))
        else { return nil }
        return Int64(date.timeIntervalSince1970.rounded(.up))
    }

    /// The instants whose local wall time is `wall`, ascending: none in a spring-forward gap, two
    /// in a fall-back overlap, otherwise one.
    func instants(forWall wall: Int64) -> (first: Int64?, second: Int64?) {
        // Offsets a day either side of the wall time are the ones in force before and after any
        // transition near it.
        let before = offset(at: wall - 86400)
        let after = offset(at: wall + 86400)
        var found: [Int64] = []
        for o in (before == after ? [before] : [before, after]) where offset(at: wall - o) == o {
            found.append(wall - o)
        }
        if found.isEmpty, before == after {
            // Two transitions within two days (rare); trust the offset at the naive instant.
            let o = offset(at: wall - before)
            if offset(at: wall - o) == o { found.append(wall - o) }
        }
        found.sort()
        return (found.first, found.count > 1 ? found[1] : nil)
    }

    /// For a wall time inside a spring-forward gap, the first wall time after the gap.
    func wallAfterGap(containing wall: Int64) -> Int64? {
        let after = offset(at: wall + 86400)
        // `wall - after` is an instant before the transition that opens the gap.
        guard let transition = nextTransition(after: wall - after - 1) else { return nil }
        return transition + offset(at: transition)
    }
}

// MARK: - Field parsing

enum CronFieldKind {
    case second, minute, hour, dayOfMonth, month, dayOfWeek

    var label: String {
        switch self {
        case .second: return "second"
        case .minute: return "minute"
        case .hour: return "hour"
        case .dayOfMonth: return "day-of-month"
        case .month: return "month"
        case .dayOfWeek: return "day-of-week"
        }
    }

    /// Values accepted literally (7 is a second spelling of Sunday).
    var bounds: ClosedRange<Int> {
        switch self {
        case .second, .minute: return 0...59
        case .hour: return 0...23
        case .dayOfMonth: return 1...31
        case .month: return 1...12
        case .dayOfWeek: return 0...7
        }
    }

    /// Where `*` and open-ended `a/n` stop; 6 for day-of-week so `*/2` does not reach 7 (Sunday again).
    var openEnd: Int { self == .dayOfWeek ? 6 : bounds.upperBound }

    var names: [String] {
        switch self {
        case .month: return ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        case .dayOfWeek: return ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        default: return []
        }
    }

    struct Parsed {
        var bits: UInt64 = 0
        var last = false
        var nth: UInt64 = 0
        var lastWeekdays: UInt64 = 0
    }

    func parse(_ text: String) throws(OJSError) -> Parsed {
        var out = Parsed()
        for element in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !element.isEmpty else { throw failure(text, "empty list element") }
            try parseElement(String(element), field: text, into: &out)
        }
        if self == .dayOfWeek, out.bits & (1 << 7) != 0 {
            out.bits = (out.bits & ~(1 << 7)) | 1
        }
        return out
    }

    private func failure(_ field: String, _ problem: String) -> OJSError {
        CronExpression.invalid("invalid \(label) '\(field)': \(problem)")
    }

    private func parseElement(_ element: String, field: String, into out: inout Parsed) throws(OJSError) {
        // Letters are case-insensitive; `upper` is only for recognising them, messages quote the input.
        let upper = element.uppercased()
        if self == .dayOfMonth {
            if upper == "L" {
                out.last = true
                return
            }
            if upper.contains("W") { throw failure(field, "W (nearest weekday) is not supported") }
            if upper.hasPrefix("L") || upper.hasSuffix("L") {
                throw failure(field, "'\(element)': only a lone L (last day of the month) is supported")
            }
        }
        if self == .dayOfWeek {
            if let hash = element.firstIndex(of: "#") {
                let weekday = try value(String(element[..<hash]), field: field)
                let occurrence = String(element[element.index(after: hash)...])
                guard occurrence.count == 1, let n = Int(occurrence), (1...5).contains(n) else {
                    throw failure(field, "'#\(occurrence)' must name an occurrence 1-5, e.g. 5#2 (second Friday)")
                }
                out.nth |= 1 << UInt64((weekday % 7) * 8 + n)
                return
            }
            if upper.hasSuffix("L") {
                guard element.count > 1 else { throw failure(field, "L needs a weekday, e.g. 5L (last Friday)") }
                let weekday = try value(String(element.dropLast()), field: field)
                out.lastWeekdays |= 1 << UInt64(weekday % 7)
                return
            }
        }

        let parts = element.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw failure(field, "more than one '/' in '\(element)'") }
        var step = 1
        if parts.count == 2 {
            let stepText = String(parts[1])
            guard !stepText.isEmpty, stepText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw failure(field, "step '\(stepText)' is not a number")
            }
            guard stepText.count <= 9, let parsed = Int(stepText) else {
                throw failure(field, "step \(stepText) is too large")
            }
            guard parsed >= 1 else { throw failure(field, "step must be at least 1, got \(stepText)") }
            step = parsed
        }

        let base = String(parts[0])
        let low: Int
        let high: Int
        if base == "*" || base == "?" {
            guard base == "*" || self == .dayOfMonth || self == .dayOfWeek else {
                throw failure(field, "'?' is only allowed in day-of-month and day-of-week")
            }
            low = bounds.lowerBound
            high = openEnd
        } else if let dash = base.firstIndex(of: "-") {
            low = try value(String(base[..<dash]), field: field)
            high = try value(String(base[base.index(after: dash)...]), field: field)
            guard low <= high else { throw failure(field, "range \(base) runs backwards (\(low) is after \(high))") }
        } else {
            low = try value(base, field: field)
            high = parts.count == 2 ? max(low, openEnd) : low
        }
        for v in stride(from: low, through: high, by: step) {
            out.bits |= 1 << UInt64(v)
        }
    }

    private func value(_ text: String, field: String) throws(OJSError) -> Int {
        guard !text.isEmpty else { throw failure(field, "missing value") }
        if text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard text.count <= 9, let v = Int(text), bounds.contains(v) else {
                throw failure(field, "\(text) is out of range \(bounds.lowerBound)-\(bounds.upperBound)")
            }
            return v
        }
        if let index = names.firstIndex(of: text.uppercased()) {
            return self == .month ? index + 1 : index
        }
        let expected =
            names.isEmpty
            ? "\(bounds.lowerBound)-\(bounds.upperBound)"
            : "\(bounds.lowerBound)-\(bounds.upperBound) or \(names[0])-\(names[names.count - 1])"
        throw failure(field, "unknown value '\(text)' (expected \(expected))")
    }
}

// MARK: - Go durations

/// Go's `time.ParseDuration` syntax (`300ms`, `1.5h`, `2h45m`), as nanoseconds. No sign: a
/// cron interval is never negative.
enum GoDuration {
    static func parseNanos(_ text: String) -> Int64? {
        let chars = Array(text)
        guard !chars.isEmpty else { return nil }
        if text == "0" { return 0 }
        var i = 0
        var total: Int64 = 0
        while i < chars.count {
            var whole: Int64 = 0
            var fraction: Int64 = 0
            var fractionScale: Int64 = 1
            var sawDigit = false
            while i < chars.count, let d = chars[i].wholeNumberValue, chars[i].isASCII {
                let (m, o1) = whole.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int64(d))
                guard !o1, !o2 else { return nil }
                whole = s
                sawDigit = true
                i += 1
            }
            if i < chars.count, chars[i] == "." {
                i += 1
                while i < chars.count, let d = chars[i].wholeNumberValue, chars[i].isASCII {
                    // Digits beyond 15 places cannot move the total by a whole second, so drop them.
                    if fractionScale < 1_000_000_000_000_000 {
                        fraction = fraction * 10 + Int64(d)
                        fractionScale *= 10
                    }
                    sawDigit = true
                    i += 1
                }
            }
            guard sawDigit else { return nil }
            let unitStart = i
            while i < chars.count, chars[i] != ".", !(chars[i].isASCII && chars[i].isNumber) { i += 1 }
            let unit: Int64
            switch String(chars[unitStart..<i]) {
            case "ns": unit = 1
            case "us", "µs", "μs": unit = 1_000
            case "ms": unit = 1_000_000
            case "s": unit = 1_000_000_000
            case "m": unit = 60_000_000_000
            case "h": unit = 3_600_000_000_000
            default: return nil
            }
            let (wholeNanos, o1) = whole.multipliedReportingOverflow(by: unit)
            guard !o1 else { return nil }
            // fraction < fractionScale keeps this below `unit`; doubles are exact enough for whole seconds.
            let fractionNanos = Int64((Double(fraction) * Double(unit) / Double(fractionScale)).rounded())
            let (partial, o2) = wholeNanos.addingReportingOverflow(fractionNanos)
            let (sum, o3) = total.addingReportingOverflow(partial)
            guard !o2, !o3 else { return nil }
            total = sum
        }
        return total
    }
}
