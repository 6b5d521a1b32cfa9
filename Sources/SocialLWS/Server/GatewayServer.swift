import CGatewayShims
import CLibWebSockets
import Foundation
import Logging
import SocialAuth
import SocialCore
import SocialProtocol
import Synchronization

/// The gateway's libwebsockets server: one port for WebSocket (`/ws`) and HTTP.
///
/// An actor whose executor is its lws service thread (`ServiceLoop`): every
/// socket, session and subscription is state of the actor, so the compiler
/// checks that only that thread touches them. A message's path reads straight
/// through it:
///
/// socket → `receive` (one parse, `Codec.command`) → `CommandPipeline.start`
/// (rate limits, scopes, the ops that need no store, answered here) → the
/// session's `CommandOrder` → the store's writer (chat-log changes) or a task
/// (everything else) → the store's completion publishes the events, in commit
/// order, and posts the reply to the inbox → `deliver` (the bus's events) and
/// `finish` (the reply, in arrival order) → send queues → `writable` (several
/// messages per frame) → sockets.
///
/// Files: `+Callback` (lws callbacks), `+Sessions` (open, subscriptions,
/// close), `+Commands` (frames to replies), `+Delivery` (fan-out and
/// writing), `+Lifecycle` (ticks, drain), `+Context` (the lws context and
/// the session budget), `+HTTP`, `+API`.
public actor GatewayServer {
    /// What other threads hand the service thread through the inbox.
    enum Work: Sendable {
        /// A command finished (on the store's thread or in a task).
        case reply(CommandReply)
        /// Events from the bus, in the order it delivers them.
        case deliver([BusEvent])
        /// The bus lost events: every client of this node should `sync`, or,
        /// with topics, the clients that follow one of them.
        case busInterrupted(Set<Topic>?)
    }

    nonisolated let settings: ServerSettings
    nonisolated let logger: Logger
    /// Transport counters (also exported as metrics); any thread may read them.
    public nonisolated let stats = ServerStats()
    /// A short random tag that makes session ids unique across nodes.
    nonisolated let nodeTag: String
    nonisolated let loop: ServiceLoop<Work>
    nonisolated let dispatcher: Dispatcher
    nonisolated let bus: any EventBus
    nonisolated let gate: HandshakeGate
    nonisolated let apiGate: APIGate
    /// Renders `/metrics` (Prometheus text format); nil serves 404 there.
    nonisolated let metrics: (@Sendable () -> [UInt8])?
    /// The backends' last probes (for `/readyz`).
    nonisolated let readiness: ReadinessProbe
    /// Presence changes of this node's sessions, in the order the service
    /// thread saw them; one task applies them (`Dispatcher.runPresence`).
    nonisolated let presence: AsyncStream<PresenceWork>.Continuation
    private nonisolated let presenceLane: AsyncStream<PresenceWork>
    /// The task that applies `presenceLane`; it ends after the drain.
    private nonisolated let presenceTask = Mutex<Task<Void, Never>?>(nil)
    private nonisolated let stopped = DispatchSemaphore(value: 0)
    /// How starting went, signalled by the service thread once the context exists (or failed).
    nonisolated let startResult = Mutex<Result<Void, ServerStartError>?>(nil)
    nonisolated let startSignal = DispatchSemaphore(value: 0)

    // The service thread's state.
    var context: OpaquePointer?
    var protocols: UnsafeMutablePointer<lws_protocols>?
    var pipeline: CommandPipeline
    var sessions: [UInt64: Session] = [:]
    var pendingUpgrades: [OpaquePointer: (Identity, String?)] = [:]
    var hub = Hub()
    var nextSessionId: UInt64 = 1
    /// The drain: which sessions close when, and when the loop stops.
    var drain: Drain
    var draining: Bool { drain.isDraining }
    /// Accepted client sockets, from lws's `WSI_CREATE` to `WSI_DESTROY`, and their caps.
    var socketBudget: SocketBudget<OpaquePointer>
    var lastTickMs: Int64 = 0
    /// The sessions each tick looks at (their next ping, idle or token deadline).
    var timers = TimerWheel(now: monotonicMillis())
    /// Sessions by phase, kept as they move (the tick no longer walks them all).
    var phases = SessionPhases()
    /// The sessions the presence heartbeat refreshes (those not closing),
    /// made again only after a session opened or started closing.
    var heartbeatSessions: [(user: UserID, sessionId: String)]?
    var lastHeartbeatMs: Int64 = 0
    /// When the tick returns the heap's free pages after a burst of set-ups.
    var heapTrim = HeapTrim()
    /// Held chat events from other nodes (see `ChatReorder`); unused with the in-process bus.
    var reorder: ChatReorder
    /// `LWS_PRE` bytes of headroom, then the frame being written (see `writable`).
    var writeBuffer = [UInt8](repeating: 0, count: GatewayServer.lwsPre)
    /// Largest batched frame: `batchMaxBytes`, never above the `max_message_bytes` announced in `hello`.
    let batchLimit: Int
    /// Sessions this node holds: `maxConnections`, lowered to fit the open-file limit.
    nonisolated let maxSessions: Int
    /// Accepted sockets of any kind this node holds: sessions, requests,
    /// unfinished handshakes, and room for probes (`/healthz`) when full.
    nonisolated var maxSockets: Int { maxSessions + Self.probeRoom }
    /// Sockets beyond `maxConnections` kept for health probes, API calls and handshakes.
    static let probeRoom = 64
    /// Half-open sockets being closed to make room (`SocketBudget.maxEvicting`):
    /// they hold their descriptors until the loop has closed them.
    static let evictionRoom = 32
    /// The longest a session ready to close for the drain waits for room
    /// (`ServerSettings.drainMaxClosing`): a peer that never answers the close
    /// frame holds its place for lws's 5 s.
    static let drainHoldMaxMs: Int64 = 5000
    /// Counts kept on this thread and added to `stats` once a tick (no lock per event).
    var counts = LocalCounts()
    /// `loop.acceptRests` as last added to `stats`.
    var acceptRestsPublished = 0
    /// Sessions with frames queued in this loop turn, written at its end (`flushQueued`).
    var flushList: [Session] = []
    /// Sessions that received something in the current read round, and how
    /// many of them received at least `fullReadBytes` (`readMore`).
    var readList: [Session] = []
    var fullReaders = 0
    /// Sessions opened in this loop turn whose chats are to be loaded (`loadOpened`).
    var loadPending: [(id: UInt64, user: UserID)] = []
    /// Presence changes of this loop turn, for the presence lane (`flushPresence`).
    var presencePending: [PresenceWork.Change] = []
    var commandMetrics = CommandMetrics()
    /// Whether the per-command debug line is written (checked once: the level is set at start).
    nonisolated var logsCommands: Bool { logger.logLevel <= .debug }
    /// Backend API requests in progress, by connection and by exchange id.
    var apiByWsi: [OpaquePointer: APIExchange] = [:]
    var apiById: [UInt64: APIExchange] = [:]
    var nextExchangeId: UInt64 = 1
    /// Keeps the bus's sink alive (the bus holds it weakly).
    var busAdapter: BusAdapter?

    static let lwsPre = Int(sg_lws_pre())
    /// lws's per-connection receive buffer (allocated for every connection at
    /// the upgrade): messages arrive in chunks of this size and `receive`
    /// joins them, so it bounds nothing but costs every idle connection its
    /// size in memory. lws also sets the socket's send buffer from it; see
    /// `sendBufferBytes`.
    static let receiveChunkBytes = 1024
    /// A read round that gave a session at least this much makes `readMore`
    /// read its socket again (lws's read was likely full: frame headers and
    /// a message cut at the chunk's end take the rest).
    static let fullReadBytes: UInt32 = UInt32(receiveChunkBytes / 2)
    /// The most chunks read from one socket in one loop turn, the first
    /// included (`readMore`): 8 KiB, so one busy sender does not hold the
    /// turn from the others.
    static let readRoundsPerTurn = 8
    /// The most lws hands to one `send()`; what the kernel does not take waits
    /// in lws's buffer for the next writable turn.
    static let sendChunkBytes = 1 << 20
    /// The kernel send buffer asked for each connection (the kernel doubles
    /// it): room for a whole batch, so a batched frame rarely stays half-sent
    /// in lws's own buffer.
    var sendBufferBytes: Int32 { Int32(max(16 << 10, batchLimit) + Self.lwsPre) }

    /// - Parameters:
    ///   - dispatcher: runs the commands; its `CommandPipeline` runs on the service thread.
    ///   - api: the backend API's endpoints (`/api/v1/...`), from every feature that has some.
    ///   - bots: the bot accounts the handshake accepts (`Authorization: Bot ...`); nil accepts none.
    ///   - backends: what `/readyz` probes, once a second (the store, the bus, presence); each
    ///     probe is bounded by `ServerSettings.readinessTimeoutMs`.
    public init(settings: ServerSettings, dispatcher: Dispatcher, verifier: TokenVerifier, bus: any EventBus,
                logger: Logger, metrics: (@Sendable () -> [UInt8])? = nil, api: [APIRoute] = [],
                bots: BotCredentials? = nil, backends: [BackendCheck]) throws {
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        self.dispatcher = dispatcher
        self.bus = bus
        self.readiness = ReadinessProbe(checks: backends, timeoutMs: Int64(settings.readinessTimeoutMs))
        self.gate = HandshakeGate(verifier: verifier, allowedOrigins: Set(settings.allowedOrigins), bots: bots)
        let router = APIRouter(api)
        for duplicate in router.duplicates { logger.warning("API route defined twice; the first wins: \(duplicate)") }
        self.apiGate = APIGate(verifier: verifier, router: router, maxBodyBytes: settings.maxAPIBodyBytes)
        self.nodeTag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        self.loop = try ServiceLoop()
        (presenceLane, presence) = AsyncStream.makeStream(of: PresenceWork.self)
        self.pipeline = CommandPipeline(dispatcher: dispatcher)
        self.reorder = ChatReorder(windowMs: bus.isDistributed ? Int64(settings.reorderWindowMs) : 0)
        self.batchLimit = min(settings.batchMaxBytes, settings.maxMessageBytes)
        self.maxSessions = Self.sessionBudget(settings, logger: logger)
        self.drain = Drain(maxClosing: settings.drainMaxClosing, holdMaxMs: Self.drainHoldMaxMs)
        self.socketBudget = SocketBudget(maxSockets: maxSessions + Self.probeRoom,
                                         maxHalfOpen: settings.maxPendingHandshakes, maxEvicting: Self.evictionRoom)
    }

    nonisolated public var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    /// Binds the port on a new service thread and starts serving. Throws when
    /// the port cannot be bound or TLS files do not load.
    public nonisolated func start() throws {
        LWSLog.install(logger)
        let dispatcher = self.dispatcher
        let lane = presenceLane
        presenceTask.withLock { $0 = Task.detached { await dispatcher.runPresence(lane) } }
        loop.start(
            name: "lws-service", tickMs: 1000, callback: gatewayCallback,
            callbackUser: Unmanaged.passUnretained(self).toOpaque(),
            event: { [self] event in assumeIsolated { $0.loopEvent(event) } },
            setUp: { [self] in try assumeIsolated { try $0.createContext() } },
            failed: { [self] error in
                startResult.withLock { $0 = .failure(error as? ServerStartError ?? ServerStartError("\(error)")) }
                startSignal.signal()
            },
            finished: { [self] in
                readiness.stop()
                stopped.signal()
            })
        startSignal.wait()
        try startResult.withLock { $0 }?.get()
        startReadinessProbe()
    }

    /// Blocks until the server has drained and stopped. Any thread but the service thread.
    public nonisolated func waitUntilStopped() {
        stopped.wait()
        stopped.signal()
    }

    /// Waits until the presence changes of the closed sessions are applied
    /// (after `waitUntilStopped`): close the presence store only then, or
    /// the last users stay online until their entries expire.
    public nonisolated func presenceSettled() async {
        await presenceTask.withLock { $0 }?.value
    }

    /// Starts a drain: stop accepting, finish in-flight commands, close every
    /// connection with 1001, stop. Any thread.
    public nonisolated func beginDrain() {
        Task { await self.startDrain() }
    }

    /// Whether every backend answered its last probe in time (`/readyz`).
    nonisolated var isReady: Bool { readiness.isReady(now: monotonicMillis()) }

    /// What the loop says besides lws callbacks. Service thread.
    private func loopEvent(_ event: Int32) {
        switch event {
        case Int32(SG_LOOP_WAKE):
            loop.drain { handle($0) }
        case Int32(SG_LOOP_PREPARE):
            endTurn()
        case Int32(SG_LOOP_TICK):
            tick(now: monotonicMillis())
        case Int32(SG_LOOP_DEADLINE):
            let expired = reorder.expire(now: monotonicMillis())
            // The window gave up on a gap: its chats' sessions resync before they see what follows it.
            resync(following: Set(expired.map(\.topic)), reason: "missed_events")
            for event in expired { fanOut(event) }
            scheduleReorderDeadline()
        default:
            break
        }
    }

    /// What a loop turn leaves for its end, just before the loop waits again:
    /// the rest of what busy sockets hold (`readMore`), the inbox, the chats of sessions opened in the
    /// turn, their presence, the drain's candidates, and the frames queued.
    /// Service thread.
    private func endTurn() {
        if !readList.isEmpty { readMore() }
        // Also what other threads posted during the turn (store replies):
        // their deliveries then share this turn's frames.
        loop.drain { handle($0) }
        if !loadPending.isEmpty { loadOpened() }
        flushPresence()
        if let candidates = drain.takeTurn() { checkDrain(candidates) }
        if !flushList.isEmpty { flushQueued() }
    }

    /// Arms the deadline for the oldest chat event held back by `reorder`. Service thread.
    func scheduleReorderDeadline() {
        guard let due = reorder.nextDeadline else {
            loop.setDeadline(nil)
            return
        }
        loop.setDeadline(max(0, due - monotonicMillis()))
    }

    /// Stops the service loop; the context is destroyed once it returned. Service thread.
    func stopLoop() {
        loop.stop()
    }

    /// Probes the backends once a second, each probe in a task of its own
    /// (see `ReadinessProbe`), until the server stops.
    private nonisolated func startReadinessProbe() {
        let readiness = self.readiness
        Task.detached {
            while !readiness.isStopped {
                for index in readiness.due(now: monotonicMillis()) {
                    let probe = readiness.checks[index].probe
                    Task.detached { readiness.finished(index, reason: await probe()) }
                }
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
    }
}

/// Why the server could not start.
public struct ServerStartError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The bus's view of the server: deliveries become inbox work for the service thread.
final class BusAdapter: BusSink {
    let loop: ServiceLoop<GatewayServer.Work>
    init(loop: ServiceLoop<GatewayServer.Work>) { self.loop = loop }
    func deliver(_ events: [BusEvent]) { loop.post(.deliver(events)) }
    func busInterrupted() { loop.post(.busInterrupted(nil)) }
    func busInterrupted(topics: Set<Topic>) { loop.post(.busInterrupted(topics)) }
}
