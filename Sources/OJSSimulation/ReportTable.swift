import Foundation

/// The report as plain-text tables for the terminal.
extension SimulationReport {
    public func table() -> String {
        var out: [String] = []
        out.append("topology \(topology), \(Self.format(durationS)) s, seed \(seed)")
        out.append("")
        let lagWidths = [14, 9, 9, 9, 9, 8, 8, 13, 13]
        out.append(Self.row(["REGION", "LAG p50", "p95", "p99", "max ms", "LOCAL", "FWD", "STALE/NO-BM", "RYW VIOL/BM"], widths: lagWidths))
        for r in regions {
            out.append(
                Self.row(
                    [
                        r.name, Self.format(r.replicationLagMs.p50), Self.format(r.replicationLagMs.p95), Self.format(r.replicationLagMs.p99),
                        Self.format(r.replicationLagMs.max), "\(r.reads.servedLocally)", "\(r.reads.forwarded)",
                        "\(r.reads.staleWithoutBookmark)/\(r.reads.withoutBookmark)", "\(r.reads.rywViolationsWithBookmark)/\(r.reads.withBookmark)",
                    ],
                    widths: lagWidths
                )
            )
        }
        out.append("")
        let opWidths = [14, 20, 9, 9, 9, 9, 9]
        out.append(Self.row(["REGION", "OPERATION", "OK/s", "p50 ms", "p95", "p99", "max"], widths: opWidths))
        for r in regions {
            for (op, p) in r.latencyMs.sorted(by: { $0.key < $1.key }) {
                out.append(
                    Self.row(
                        [
                            r.name, op, Self.format(r.throughputPerS[op] ?? 0), Self.format(p.p50), Self.format(p.p95), Self.format(p.p99),
                            Self.format(p.max),
                        ],
                        widths: opWidths
                    )
                )
            }
        }
        let errorRows = regions.flatMap { r in r.errors.sorted(by: { $0.key < $1.key }).map { (r.name, $0.key, $0.value) } }
        if !errorRows.isEmpty {
            out.append("")
            out.append(Self.row(["REGION", "ERROR", "COUNT"], widths: [14, 44, 8]))
            for (region, kind, n) in errorRows { out.append(Self.row([region, kind, "\(n)"], widths: [14, 44, 8])) }
        }
        if !faults.isEmpty {
            out.append("")
            out.append(
                "faults: " + faults.map { "\($0.kind) \($0.target) \(Self.format($0.startS))–\(Self.format($0.endS)) s" }.joined(separator: "; ")
            )
        }
        if let failover {
            out.append("")
            out += failover.lines()
        }
        let i = invariants
        out.append("")
        out.append("invariants:")
        out.append("  read-your-writes violations with bookmark: \(i.rywViolationsWithBookmark) (of \(i.bookmarkedReadsChecked) bookmarked reads)")
        out.append("  lost acknowledged jobs: \(i.lostAcknowledgedJobs) (of \(i.acknowledgedJobsChecked))")
        out.append("  double claims: \(i.doubleClaims) (of \(i.claimsChecked) claims)")
        let positions = i.comparedAtTxid.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" }.joined(separator: ", ")
        let reference = failover.map { "the final leader \($0.finalLeader ?? "?")" } ?? "the primary"
        out.append("  replicas identical to \(reference): \(i.replicasIdentical ? "yes" : "NO") (\(positions))")
        for d in i.details.prefix(10) { out.append("    " + d) }
        out.append(holds ? "PASS" : "FAIL")
        return out.joined(separator: "\n")
    }

    static func row(_ cells: [String], widths: [Int]) -> String {
        zip(cells, widths).map { c, n in c.count >= n ? c + " " : c + String(repeating: " ", count: n - c.count) }.joined()
            .trimmingCharacters(in: .whitespaces)
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e9 { return String(Int(v)) }
        return String(format: v < 10 ? "%.2f" : "%.1f", v)
    }
}
