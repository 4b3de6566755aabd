import Foundation

/// Plays a topology's faults at their times: partitions cut links through the proxies, kills
/// are real `kill -9`s of the node's process, and each fault ends (partition healed, process
/// restarted) after its duration. Overlapping faults run side by side. `kill_leader` asks the
/// cluster who leads when it plays and kills that node.
struct FaultTimeline {
    /// The target recorded for a `kill_leader` that found no leader to kill.
    static let noLeader = "none"

    let faults: [Topology.Fault]
    let start: ContinuousClock.Instant
    let links: [String: RegionLinks]
    let nodes: NodeControl

    struct RegionLinks: Sendable {
        let toPrimary: LinkProxy
        let toClients: LinkProxy
    }

    /// Process control the timeline needs; `Simulation` provides it.
    struct NodeControl: Sendable {
        let kill: @Sendable (String) -> Void
        /// Restarts the node and returns once it answers again.
        let restart: @Sendable (String) async throws -> Void
        /// The node that leads right now (failover mode); nil when none does.
        var leader: @Sendable () async -> String? = { nil }
    }

    func run(log: @escaping @Sendable (String) -> Void) async -> [FaultEvent] {
        await withTaskGroup(of: FaultEvent?.self) { group in
            for fault in faults.sorted(by: { $0.atS < $1.atS }) {
                group.addTask { await play(fault, log: log) }
            }
            var events: [FaultEvent] = []
            for await e in group { if let e { events.append(e) } }
            return events.sorted { $0.startS < $1.startS }
        }
    }

    private func elapsed() -> Double { Double((ContinuousClock.now - start) / .milliseconds(1)) / 1000 }

    private func play(_ fault: Topology.Fault, log: @Sendable (String) -> Void) async -> FaultEvent? {
        try? await Task.sleep(until: start + .milliseconds(Int64(fault.atS * 1000)), clock: .continuous)
        let began = elapsed()
        let end = start + .milliseconds(Int64((fault.atS + fault.durationS) * 1000))
        switch fault.kind {
        case .partition:
            guard let region = fault.region, let l = links[region] else { return nil }
            let side = fault.link ?? .primary
            let cut = [side == .clients ? nil : l.toPrimary, side == .primary ? nil : l.toClients].compactMap { $0 }
            log("t=\(Int(began))s partition \(region) (\(side.rawValue) link) for \(String(format: "%.1f", fault.durationS))s")
            for p in cut { p.setPartitioned(true) }
            try? await Task.sleep(until: end, clock: .continuous)
            for p in cut { p.setPartitioned(false) }
            return FaultEvent(kind: "partition", target: "\(region)/\(side.rawValue)", startS: began, endS: elapsed())
        case .killReplica, .killPrimary, .killLeader:
            let target: String
            switch fault.kind {
            case .killPrimary: target = "primary"
            case .killLeader:
                guard let leader = await nodes.leader() else {
                    log("t=\(Int(began))s kill_leader: no node leads, nothing killed")
                    return FaultEvent(kind: fault.kind.rawValue, target: Self.noLeader, startS: began, endS: began)
                }
                target = leader
            default: target = fault.region ?? ""
            }
            let killedAt = elapsed()
            let restart = fault.restart ?? true
            let when = restart ? "restart after \(String(format: "%.1f", fault.durationS))s" : "no restart"
            log("t=\(Int(killedAt))s kill -9 \(target)\(fault.kind == .killLeader ? " (the leader)" : ""), \(when)")
            nodes.kill(target)
            guard restart else { return FaultEvent(kind: fault.kind.rawValue, target: target, startS: killedAt, endS: killedAt) }
            try? await Task.sleep(until: end, clock: .continuous)
            do {
                try await nodes.restart(target)
            } catch {
                log("restarting \(target) failed: \(error)")
            }
            return FaultEvent(kind: fault.kind.rawValue, target: target, startS: killedAt, endS: elapsed())
        }
    }
}
