import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP proxy that behaves like a wide-area link: every chunk is delayed by the
/// link's latency, jitter and spikes (order kept) and by its bandwidth cap, open connections
/// are reset at random, and a partition cuts every connection and refuses new ones until it
/// ends. One proxy per link; the replica or the clients connect to `port`.
public final class LinkProxy: Sendable {
    public let port: Int
    public let name: String
    private let upstreamPort: Int
    private let link: Topology.Link
    private let server: any Channel
    private let state: NIOLockedValueBox<State>
    private let dropTask: NIOLockedValueBox<RepeatedTask?>

    private struct State {
        var partitioned = false
        var connections: [ObjectIdentifier: Pair] = [:]
        var rng: SplitMix
    }

    private struct Pair {
        let inbound: any Channel
        let outbound: any Channel
    }

    public static func start(name: String, link: Topology.Link, upstreamPort: Int, seed: UInt64, group: any EventLoopGroup) async throws -> LinkProxy
    {
        let state = NIOLockedValueBox(State(rng: SplitMix(seed)))
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            // Nothing is read from a client until its upstream connection exists.
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { inbound in
                Self.accept(inbound, link: link, upstreamPort: upstreamPort, state: state)
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = LinkProxy(name: name, port: server.localAddress?.port ?? 0, upstreamPort: upstreamPort, link: link, server: server, state: state)
        if (link.dropPerSecond ?? 0) > 0 {
            let task = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in proxy.dropSome() }
            proxy.dropTask.withLockedValue { $0 = task }
        }
        return proxy
    }

    private init(name: String, port: Int, upstreamPort: Int, link: Topology.Link, server: any Channel, state: NIOLockedValueBox<State>) {
        self.name = name
        self.port = port
        self.upstreamPort = upstreamPort
        self.link = link
        self.server = server
        self.state = state
        self.dropTask = NIOLockedValueBox(nil)
    }

    public var isPartitioned: Bool { state.withLockedValue { $0.partitioned } }

    /// Starts or ends a partition. Starting one closes every connection through the link.
    public func setPartitioned(_ on: Bool) {
        let cut = state.withLockedValue { s -> [Pair] in
            s.partitioned = on
            return on ? Array(s.connections.values) : []
        }
        for pair in cut { Self.reset(pair) }
    }

    public func close() {
        dropTask.withLockedValue { $0?.cancel() }
        server.close(promise: nil)
        setPartitioned(true)
    }

    private func dropSome() {
        let victims = state.withLockedValue { s -> [Pair] in
            var out: [Pair] = []
            for pair in s.connections.values where s.rng.unit() < (link.dropPerSecond ?? 0) { out.append(pair) }
            return out
        }
        for pair in victims { Self.reset(pair) }
    }

    private static func reset(_ pair: Pair) {
        pair.inbound.close(promise: nil)
        pair.outbound.close(promise: nil)
    }

    private static func accept(
        _ inbound: any Channel,
        link: Topology.Link,
        upstreamPort: Int,
        state: NIOLockedValueBox<State>
    ) -> EventLoopFuture<Void> {
        let seeds = state.withLockedValue { s in s.partitioned ? nil : (s.rng.next(), s.rng.next()) }
        // A partitioned link refuses: the connection is closed as soon as it is accepted.
        guard let seeds else { return inbound.eventLoop.makeFailedFuture(LinkProxyError.partitioned) }
        return ClientBootstrap(group: inbound.eventLoop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { outbound in
                outbound.eventLoop.makeCompletedFuture {
                    try outbound.pipeline.syncOperations.addHandler(DelayRelay(peer: inbound, shaper: Shaper(link: link, seed: seeds.1)))
                }
            }
            .connect(host: "127.0.0.1", port: upstreamPort)
            .flatMapThrowing { outbound in
                try inbound.pipeline.syncOperations.addHandler(DelayRelay(peer: outbound, shaper: Shaper(link: link, seed: seeds.0)))
                let key = ObjectIdentifier(inbound)
                let admitted = state.withLockedValue { s -> Bool in
                    guard !s.partitioned else { return false }
                    s.connections[key] = Pair(inbound: inbound, outbound: outbound)
                    return true
                }
                guard admitted else {
                    outbound.close(promise: nil)
                    throw LinkProxyError.partitioned
                }
                inbound.closeFuture.whenComplete { _ in
                    _ = state.withLockedValue { $0.connections.removeValue(forKey: key) }
                    outbound.close(promise: nil)
                }
                try inbound.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
            }
    }
}

public enum LinkProxyError: Error {
    case partitioned
}

/// Relays what one side reads to the other side at the shaper's delivery times. Closing is
/// delayed the same way, so a response is not cut off by the close that follows it.
private final class DelayRelay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let peer: any Channel
    private var shaper: Shaper
    private var lastDelivery: Int64 = 0

    init(peer: any Channel, shaper: Shaper) {
        self.peer = peer
        self.shaper = shaper
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        let at = shaper.delivery(bytes: buffer.readableBytes, now: Int64(NIODeadline.now().uptimeNanoseconds))
        lastDelivery = at
        let peer = self.peer
        context.eventLoop.scheduleTask(deadline: NIODeadline.uptimeNanoseconds(UInt64(at))) {
            peer.writeAndFlush(buffer, promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let peer = self.peer
        let at = max(lastDelivery + 1, Int64(NIODeadline.now().uptimeNanoseconds))
        context.eventLoop.scheduleTask(deadline: NIODeadline.uptimeNanoseconds(UInt64(at))) { peer.close(promise: nil) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
