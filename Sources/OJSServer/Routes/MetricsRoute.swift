import Hummingbird
import NIOCore
import OJSReplication
import OJSStore

extension OJSAPI {
    /// `GET /metrics`: Prometheus text format, on both roles.
    func addMetricsRoute(_ router: Router<Context>) {
        router.get("/metrics") { _, _ in
            let now = store.clock()
            try await metrics.refreshJobs(store: store)
            if let writer = store.writer { metrics.refreshWriter(writer) }
            switch role {
            case .primary(let source?):
                metrics.refreshPrimary(source: source, now: now)
                if let sync { metrics.refreshSync(sync.snapshot) }
            case .primary(nil): break
            case .replica(let tailer, let region): metrics.refreshReplica(tailer: tailer, region: region, now: now)
            }
            if let cluster { metrics.refreshCluster(cluster.current, now: now) }
            if let events { metrics.refreshEventStreams(open: events.streams, limit: events.settings.maxStreams) }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
    }
}
