import Logging
import OJSStore
import ServiceLifecycle
import Synchronization

/// The node's one follower of the event log, behind `GET /ojs/v1/events/stream`
/// (`docs/events.md`). After every commit (primary) or applied batch (replica) — `wake` — it
/// reads the new events once, renders each once, keeps them in a bounded ring and wakes the
/// subscribers, so N streams cost one database read per wake, not N. A subscriber that fell
/// behind the ring pages through the log itself (`Store.eventRecords`), and a slow client
/// holds only its own task: the feed never waits for a subscriber, and a subscriber is handed
/// at most `batchLimit` events at a time, so a stream's memory is bounded whatever its speed.
/// While no stream is open it sleeps until one opens, so commits cost it nothing.
///
/// It runs as a service of the node's role: when the role's services stop (graceful shutdown,
/// step-down, a new leader to follow) `run` returns and every stream ends, so clients
/// reconnect to whichever node serves now.
public final class EventFeed: Service, Sendable {
    public struct Settings: Sendable {
        /// Events kept in memory: 4,096 frames of about 400 bytes are under 2 MB, and cover
        /// several seconds of a busy primary (about three events per job), so a stream that
        /// pauses for a slow client rarely has to go back to the log.
        public var ringCapacity = 4096
        /// Events read per query when the feed or a lagging stream pages through the log.
        public var readPage = 500
        /// Events handed to a subscriber at once, which bounds a stream's buffer.
        public var batchLimit = 256
        /// Streams open at once (`ServerConfiguration.maxEventStreams`).
        public var maxStreams = ServerConfiguration.defaultMaxEventStreams
        /// An idle stream's heartbeat interval (`ServerConfiguration.eventStreamHeartbeatMs`).
        public var heartbeatMs = ServerConfiguration.defaultEventStreamHeartbeatMs
        /// The feed reads the log at least this often even without a wake: a replica that
        /// bootstraps again resets its position without waking waiters.
        public var safetyReadMs = 1000

        public init() {}

        /// The settings a server configuration gives.
        public init(_ config: ServerConfiguration) {
            maxStreams = config.maxEventStreams
            heartbeatMs = config.eventStreamHeartbeatMs
        }
    }

    private struct Subscriber {
        var ended = false
        var parked: CheckedContinuation<Wake, Never>?
        var deadline: ContinuousClock.Instant?
    }

    private enum Wake { case recheck, heartbeat, closed }

    private struct State {
        var ring: EventRing?
        var subscribers: [Int: Subscriber] = [:]
        var nextId = 0
        var closed = false
    }

    let settings: Settings
    private let store: Store
    private let wake: PositionBroadcaster
    /// Rises with every stream opened (to its subscription id): what wakes an idle feed.
    private let opened = PositionBroadcaster()
    private let logger: Logger
    private let state = Mutex(State())

    /// `wake` rises after each commit or applied batch that may have written events.
    public init(store: Store, wake: PositionBroadcaster, settings: Settings, logger: Logger) {
        self.store = store
        self.wake = wake
        self.settings = settings
        self.logger = logger
    }

    /// Streams open now.
    public var streams: Int { state.withLock { $0.subscribers.count } }

    /// A slot for one stream, or nil when `maxStreams` are open or the feed has ended.
    func subscribe() -> EventSubscription? {
        let id: Int? = state.withLock { s in
            guard !s.closed, s.subscribers.count < settings.maxStreams else { return nil }
            s.nextId += 1
            s.subscribers[s.nextId] = Subscriber()
            return s.nextId
        }
        guard let id else { return nil }
        opened.publish(Int64(id))
        return EventSubscription(id: id, feed: self)
    }

    /// Follows the log until graceful shutdown or cancellation, then ends every stream.
    public func run() async {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.follow() }
                group.addTask { await self.tickHeartbeats() }
                await group.next()
                group.cancelAll()
            }
        }
        close()
    }

    /// Ends every stream and refuses new ones.
    public func close() {
        let waiting = state.withLock { s -> [CheckedContinuation<Wake, Never>] in
            s.closed = true
            return s.subscribers.keys.compactMap { s.subscribers[$0]?.parked.take() }
        }
        for continuation in waiting { continuation.resume(returning: .closed) }
    }

    // MARK: Following the log

    private func follow() async {
        // The feed starts idle: it reads nothing until a stream opens, neither at start-up (a
        // replica may still be bootstrapping, with no log to read) nor while no stream listens.
        var last: Int64 = 0
        var idle = true
        var failing = false
        while !Task.isCancelled {
            let opensSeen = opened.value
            if streams == 0 {
                // Nobody listens: sleep until a stream opens rather than wake on every commit,
                // so a commit costs the feed nothing (a wake, a read and a rendered frame per
                // event would take CPU the writer needs).
                idle = true
                _ = await opened.wait(atLeast: opensSeen + 1, timeout: Self.idleRecheck)
                continue
            }
            let seen = wake.value
            do {
                if idle {
                    // A stream opened while the feed was idle: start the ring at the log's end.
                    // A stream whose cursor is older than that reads the gap from the log (it is
                    // below the ring's floor), so nothing is missed.
                    last = try await store.lastEventSeq()
                    restart(at: last)
                    idle = false
                }
                var page: [EventRecord]
                repeat {
                    page = try await store.eventRecords(after: last, limit: settings.readPage)
                    if let newest = page.last {
                        last = newest.seq
                        publish(page.map(FeedEvent.init))
                    }
                } while page.count == settings.readPage && !Task.isCancelled
                failing = false
            } catch {
                // Logged when reads start failing, not on every wake while they keep failing.
                if !failing { logger.warning("event feed read failed", metadata: ["error": .string("\(error)")]) }
                failing = true
            }
            _ = await wake.wait(atLeast: seen + 1, timeout: .milliseconds(settings.safetyReadMs))
        }
    }

    /// How long an idle feed sleeps before it looks again without being told a stream opened:
    /// a backstop only (`subscribe` wakes it at once), so a minute costs nothing.
    static let idleRecheck: Duration = .seconds(60)

    /// An empty ring at `head`, and every parked stream rechecked against it.
    private func restart(at head: Int64) {
        let woken = state.withLock { s -> [CheckedContinuation<Wake, Never>] in
            s.ring = EventRing(capacity: settings.ringCapacity, head: head)
            return takeParked(&s)
        }
        for continuation in woken { continuation.resume(returning: .recheck) }
    }

    private func publish(_ events: [FeedEvent]) {
        let woken = state.withLock { s -> [CheckedContinuation<Wake, Never>] in
            for event in events { s.ring?.append(event) }
            return takeParked(&s)
        }
        for continuation in woken { continuation.resume(returning: .recheck) }
    }

    private func takeParked(_ s: inout State) -> [CheckedContinuation<Wake, Never>] {
        var woken: [CheckedContinuation<Wake, Never>] = []
        for id in s.subscribers.keys {
            if let continuation = s.subscribers[id]?.parked.take() { woken.append(continuation) }
        }
        return woken
    }

    /// One timer for every stream's heartbeat, instead of one per stream: it wakes the parked
    /// subscribers whose deadline passed, checking four times per interval (at most once a
    /// second), so a heartbeat is late by at most a quarter interval.
    private func tickHeartbeats() async {
        let period = max(5, min(1000, settings.heartbeatMs / 4))
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(period))
            let now = ContinuousClock.now
            let due = state.withLock { s -> [CheckedContinuation<Wake, Never>] in
                var due: [CheckedContinuation<Wake, Never>] = []
                for id in s.subscribers.keys {
                    guard let deadline = s.subscribers[id]?.deadline, deadline <= now else { continue }
                    if let continuation = s.subscribers[id]?.parked.take() { due.append(continuation) }
                }
                return due
            }
            for continuation in due { continuation.resume(returning: .heartbeat) }
        }
    }

    // MARK: Subscribers

    func next(_ id: Int, after cursor: Int64, heartbeatAt: ContinuousClock.Instant) async -> EventFeedDelivery {
        while true {
            let wake: Wake = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Wake, Never>) in
                    let ready: Wake? = state.withLock { s in
                        guard !s.closed, let subscriber = s.subscribers[id], !subscriber.ended, !Task.isCancelled else { return .closed }
                        if let ring = s.ring, cursor < ring.head { return .recheck }
                        if ContinuousClock.now >= heartbeatAt { return .heartbeat }
                        s.subscribers[id]?.parked = continuation
                        s.subscribers[id]?.deadline = heartbeatAt
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            } onCancel: {
                self.end(id)
            }
            switch wake {
            case .closed: return .closed
            case .heartbeat: return .heartbeat
            case .recheck:
                let delivery: EventFeedDelivery? = state.withLock { s in
                    guard !s.closed, s.subscribers[id]?.ended == false else { return .closed }
                    guard let ring = s.ring, cursor < ring.head else { return nil }
                    guard let events = ring.events(after: cursor, limit: settings.batchLimit), let newest = events.last else {
                        return .behind(through: ring.head)
                    }
                    return .events(events, through: newest.record.seq)
                }
                if let delivery { return delivery }
            }
        }
    }

    func end(_ id: Int) {
        let parked = state.withLock { s -> CheckedContinuation<Wake, Never>? in
            s.subscribers[id]?.ended = true
            return s.subscribers[id]?.parked.take()
        }
        parked?.resume(returning: .closed)
    }

    func isEnded(_ id: Int) -> Bool { state.withLock { $0.closed || $0.subscribers[id]?.ended != false } }

    func release(_ id: Int) {
        let parked = state.withLock { $0.subscribers.removeValue(forKey: id)?.parked }
        parked?.resume(returning: .closed)
    }
}
