/// ISO 8601 durations (`PT1S`, `PT0.5S`, `P1DT2H`, `P2W`) as milliseconds. Years and months
/// have no fixed length, so they are refused rather than guessed.
public enum ISODuration {
    public static func parseMillis(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count >= 2, u[0] == UInt8(ascii: "P") else { return nil }
        var i = 1
        var inTime = false
        var total: Double = 0
        var sawComponent = false
        var lastRank = -1
        while i < u.count {
            if u[i] == UInt8(ascii: "T") {
                guard !inTime else { return nil }
                inTime = true
                i += 1
                guard i < u.count else { return nil }
                continue
            }
            let start = i
            while i < u.count, (u[i] >= 0x30 && u[i] <= 0x39) || u[i] == UInt8(ascii: ".") || u[i] == UInt8(ascii: ",") { i += 1 }
            guard i > start, i < u.count else { return nil }
            let numberText = String(decoding: u[start..<i], as: UTF8.self).replacingOccurrences(",", ".")
            guard let value = Double(numberText) else { return nil }
            let unit = u[i]
            i += 1
            let rank: Int
            let scale: Double
            switch (inTime, unit) {
            case (false, UInt8(ascii: "W")):
                rank = 0
                scale = 7 * 86_400_000
            case (false, UInt8(ascii: "D")):
                rank = 1
                scale = 86_400_000
            case (true, UInt8(ascii: "H")):
                rank = 2
                scale = 3_600_000
            case (true, UInt8(ascii: "M")):
                rank = 3
                scale = 60_000
            case (true, UInt8(ascii: "S")):
                rank = 4
                scale = 1000
            default: return nil
            }
            guard rank > lastRank else { return nil }
            lastRank = rank
            total += value * scale
            sawComponent = true
        }
        guard sawComponent, total.isFinite, total < 9.0e15 else { return nil }
        return Int64(total.rounded())
    }

    /// Formats milliseconds as the shortest `PT…` form (`PT1S`, `PT5M`, `PT0.5S`).
    public static func format(millis: Int64) -> String {
        if millis == 0 { return "PT0S" }
        var rest = millis
        var out = "PT"
        let hours = rest / 3_600_000
        rest %= 3_600_000
        let minutes = rest / 60_000
        rest %= 60_000
        if hours > 0 { out += "\(hours)H" }
        if minutes > 0 { out += "\(minutes)M" }
        if rest > 0 {
            if rest % 1000 == 0 {
                out += "\(rest / 1000)S"
            } else {
                var frac = String(rest % 1000)
                while frac.count < 3 { frac = "0" + frac }
                while frac.hasSuffix("0") { frac.removeLast() }
                out += "\(rest / 1000).\(frac)S"
            }
        }
        return out
    }
}

extension String {
    func replacingOccurrences(_ target: Character, _ replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
