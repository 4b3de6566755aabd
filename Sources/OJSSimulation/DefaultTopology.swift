/// The default topology, embedded so `ojs-edge simulate` works from any directory. It must
/// stay equal to `replica/topologies/default.json` (a unit test compares them).
extension Topology {
    public static let defaultJSON = #"""
        {
          "name": "default",
          "duration_s": 60,
          "visibility_timeout_ms": 5000,
          "consistency_wait_ms": 2000,
          "regions": [
            {
              "name": "near",
              "primary_link": { "latency_ms": 2.5, "jitter_ms": 0.5 },
              "client_link": { "latency_ms": 1 },
              "workload": {
                "pushes_per_s": 10, "batches_per_s": 1, "batch_size": 10, "workers": 2, "fetches_per_s": 6, "fetch_count": 5,
                "reads_per_s": 20, "bookmarked_read_share": 0.5
              }
            },
            {
              "name": "continental",
              "primary_link": { "latency_ms": 40, "jitter_ms": 4, "spike_probability": 0.002, "spike_ms": 60, "bandwidth_kbps": 50000 },
              "client_link": { "latency_ms": 1 },
              "workload": {
                "pushes_per_s": 10, "batches_per_s": 1, "batch_size": 10, "workers": 2, "fetches_per_s": 6, "fetch_count": 5,
                "reads_per_s": 20, "bookmarked_read_share": 0.5
              }
            },
            {
              "name": "far",
              "primary_link": {
                "latency_ms": 100, "jitter_ms": 25, "spike_probability": 0.01, "spike_ms": 150, "bandwidth_kbps": 20000, "drop_per_second": 0.01
              },
              "client_link": { "latency_ms": 2, "jitter_ms": 1 },
              "workload": {
                "pushes_per_s": 10, "batches_per_s": 1, "batch_size": 10, "workers": 2, "fetches_per_s": 6, "fetch_count": 5,
                "reads_per_s": 20, "bookmarked_read_share": 0.5
              }
            }
          ]
        }
        """#
}
