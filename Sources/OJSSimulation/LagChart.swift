import Foundation

/// An SVG line chart of each region's replication lag over the run, with the faults drawn
/// as shaded, labelled spans. Pure: a report in, a self-contained SVG document out.
public enum LagChart {
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]

    public static func render(_ report: SimulationReport, width: Int = 900, height: Int = 420) -> String {
        let left = 70.0
        let right = 200.0
        let top = 40.0
        let bottom = 50.0
        let plotW = Double(width) - left - right
        let plotH = Double(height) - top - bottom
        let tMax = max(report.durationS, report.faults.map(\.endS).max() ?? 0, 1)
        let observed = report.regions.flatMap { $0.lagSeries.compactMap(\.lagMs) }.max() ?? 0
        let yMax = niceCeiling(max(observed, 10))
        func x(_ t: Double) -> Double { left + min(max(t, 0), tMax) / tMax * plotW }
        func y(_ v: Double) -> Double { top + plotH - min(v, yMax) / yMax * plotH }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="22" font-size="15" font-weight="bold">Replication lag per region — topology \(escape(report.topology))</text>

            """
        for (i, f) in report.faults.enumerated() {
            let x0 = x(f.startS)
            let x1 = max(x(f.endS), x0 + 2)
            svg += "<rect x=\"\(r(x0))\" y=\"\(r(top))\" width=\"\(r(x1 - x0))\" height=\"\(r(plotH))\" fill=\"#f2b134\" fill-opacity=\"0.25\"/>\n"
            svg += "<line x1=\"\(r(x0))\" y1=\"\(r(top))\" x2=\"\(r(x0))\" y2=\"\(r(top + plotH))\" stroke=\"#b8860b\" stroke-dasharray=\"4 3\"/>\n"
            let labelY = top + 14 + Double(i % 3) * 14
            svg += "<text x=\"\(r(x0 + 3))\" y=\"\(r(labelY))\" fill=\"#7a5a00\">\(escape(faultLabel(f)))</text>\n"
        }
        for tick in 0...5 {
            let v = yMax * Double(tick) / 5
            svg += "<line x1=\"\(r(left))\" y1=\"\(r(y(v)))\" x2=\"\(r(left + plotW))\" y2=\"\(r(y(v)))\" stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(r(left - 8))\" y=\"\(r(y(v) + 4))\" text-anchor=\"end\">\(label(v))</text>\n"
        }
        let step = niceCeiling(tMax / 8, multiples: [1, 2, 5, 10])
        var t = 0.0
        while t <= tMax + 1e-9 {
            svg += "<text x=\"\(r(x(t)))\" y=\"\(r(top + plotH + 18))\" text-anchor=\"middle\">\(label(t))</text>\n"
            t += step
        }
        svg += "<text x=\"\(r(left + plotW / 2))\" y=\"\(height - 12)\" text-anchor=\"middle\">seconds since the workload started</text>\n"
        svg += "<text transform=\"translate(18 \(r(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">lag (ms)</text>\n"
        svg += "<rect x=\"\(r(left))\" y=\"\(r(top))\" width=\"\(r(plotW))\" height=\"\(r(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"

        for (i, region) in report.regions.enumerated() {
            let color = colors[i % colors.count]
            // A sample the replica did not answer (it was down) breaks the line.
            var runs: [[String]] = [[]]
            for s in region.lagSeries {
                if let v = s.lagMs {
                    runs[runs.count - 1].append("\(r(x(s.t))),\(r(y(v)))")
                } else if !(runs.last?.isEmpty ?? true) {
                    runs.append([])
                }
            }
            for run in runs where !run.isEmpty {
                svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.6\" points=\"\(run.joined(separator: " "))\"/>\n"
            }
            let ly = top + 10 + Double(i) * 20
            svg +=
                "<line x1=\"\(r(left + plotW + 15))\" y1=\"\(r(ly))\" x2=\"\(r(left + plotW + 35))\" "
                + "y2=\"\(r(ly))\" stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            svg +=
                "<text x=\"\(r(left + plotW + 40))\" y=\"\(r(ly + 4))\">\(escape(region.name)) p99 \(label(region.replicationLagMs.p99)) ms</text>\n"
        }
        if !report.faults.isEmpty {
            let ly = top + 10 + Double(report.regions.count) * 20
            svg += "<rect x=\"\(r(left + plotW + 15))\" y=\"\(r(ly - 6))\" width=\"20\" height=\"12\" fill=\"#f2b134\" fill-opacity=\"0.4\"/>\n"
            svg += "<text x=\"\(r(left + plotW + 40))\" y=\"\(r(ly + 4))\">fault</text>\n"
        }
        return svg + "</svg>\n"
    }

    static func faultLabel(_ f: FaultEvent) -> String {
        f.kind == "partition" ? "partition \(f.target)" : "kill -9 \(f.target)"
    }

    /// The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^n) at or above `v`,
    /// so the axis ends close above the data with round ticks.
    static func niceCeiling(_ v: Double, multiples: [Double] = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) -> Double {
        guard v > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(v)))
        for m in multiples where m * magnitude >= v - 1e-9 { return m * magnitude }
        return 10 * magnitude
    }

    static func r(_ v: Double) -> String { String(format: "%.1f", v) }

    static func label(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
