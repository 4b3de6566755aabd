import OJSCore

extension OJSMetrics {
    /// A failover node's cluster series, read at scrape time: `ojs_leader` is 1 on the node
    /// that leads and 0 on the others (sum it over the cluster: anything but 1 for longer than
    /// a lease is an alert), plus the node's promotions, step-downs and the leader changes it
    /// has seen (`ojs_failovers_total`).
    func refreshCluster(_ state: ClusterView.State, now: Int64) {
        let labels = [("cluster", state.cluster), ("node", state.node)]
        gauge("ojs_leader", labels: labels, help: "1 while this node holds the cluster's leader lease", state.role == .primary ? 1 : 0)
        gauge("ojs_leader_epoch", labels: labels, help: "Epoch of the leader this node knows", Double(state.leader?.epoch ?? 0))
        counter(
            "ojs_failovers_total",
            labels: labels,
            help: "Leader changes this node has seen since it started (not counting the first leader it found)",
            total: Double(max(0, state.leaderChanges - 1))
        )
        counter("ojs_promotions_total", labels: labels, help: "Times this node became the leader since it started", total: Double(state.promotions))
        counter("ojs_step_downs_total", labels: labels, help: "Times this node stopped leading since it started", total: Double(state.stepDowns))
        gauge(
            "ojs_lease_remaining_seconds",
            labels: labels,
            help: "Time until this node's lease expires without another keepalive",
            Double(max(0, (state.leaseExpiresAt ?? now) - now)) / 1000
        )
    }
}
