import CGatewayShims
import CLibWebSockets
import Foundation
import Logging
import SocialAuth
import SocialCore
import SocialProtocol

/// The gateway's libwebsockets server: one port for WebSocket (`/ws`) and HTTP.
///
/// Threading: one lws service thread owns the context, every socket and every
/// `Session`; it is the only thread that calls `lws_*` (other threads post
/// `Work` to `inbox` and wake it with `lws_cancel_service`). Commands run in
/// Swift tasks through the `CommandHandler`; bus deliveries arrive through
/// `deliver`. Properties marked "service thread" are touched only there,
/// which is why this class is `@unchecked Sendable`.
public final class GatewayServer: @unchecked Sendable {
    enum Work {
        case reply(session: UInt64, outcome: CommandOutcome)
        case subscribed(session: UInt64, chats: [String])
        case subscriptionFailed(session: UInt64)
        case deliver([BusEvent])
        case busInterrupted
        case drain
        case apiAnswer(exchange: UInt64, response: APIResponse)
    }

    let settings: ServerSettings
    let handler: any CommandHandler
    let bus: any EventBus
    let gate: HandshakeGate
    let apiGate: APIGate
    let logger: Logger
    let inbox = WorkInbox<Work>()
    let stats = ServerStats()
    /// A short random tag that makes session ids unique across nodes.
    let nodeTag: String
    private let readiness = ReadinessFlag()

    // Set by `start` before the service thread exists; read-only afterwards.
    private(set) var context: OpaquePointer?
    private var protocols: UnsafeMutablePointer<lws_protocols>?
    private var serviceThread: Thread?
    private var busAdapter: (any BusSink)?
    private let finished = DispatchSemaphore(value: 0)

    // Service thread only.
    var sessions: [UInt64: Session] = [:]
    var pendingUpgrades: [OpaquePointer: (Identity, String?)] = [:]
    var hub = Hub()
    var nextSessionId: UInt64 = 1
    var draining = false
    var drainDeadlineMs: Int64 = 0
    var running = true
    var timer: OpaquePointer?
    /// Subscription changes that arrived while a session was still loading its chats.
    var lateSubscriptions: [UInt64: [BusEvent.Subscription]] = [:]
    var lastHeartbeatMs: Int64 = 0
    lazy var reorder = ChatReorder(windowMs: Int64(settings.reorderWindowMs))
    var reorderTimer: OpaquePointer?
    /// Backend API requests in progress, by connection and by exchange id.
    var apiByWsi: [OpaquePointer: APIExchange] = [:]
    var apiById: [UInt64: APIExchange] = [:]
    var nextExchangeId: UInt64 = 1

    /// Renders `/metrics` (Prometheus text format); nil serves 404 there.
    let metrics: (@Sendable () -> [UInt8])?

    /// - Parameters:
    ///   - api: the backend API's endpoints (`/api/v1/...`), from every feature that has some.
    ///   - bots: the bot accounts the handshake accepts (`Authorization: Bot ...`); nil accepts none.
    public init(settings: ServerSettings, handler: any CommandHandler, verifier: TokenVerifier,
                bus: any EventBus, logger: Logger, metrics: (@Sendable () -> [UInt8])? = nil,
                api: [APIRoute] = [], bots: BotCredentials? = nil) {
        self.metrics = metrics
        self.settings = settings
        self.handler = handler
        self.bus = bus
        self.gate = HandshakeGate(verifier: verifier, allowedOrigins: Set(settings.allowedOrigins), bots: bots)
        let router = APIRouter(api)
        for duplicate in router.duplicates { logger.warning("API route defined twice; the first wins: \(duplicate)") }
        self.apiGate = APIGate(verifier: verifier, router: router, maxBodyBytes: settings.maxAPIBodyBytes)
        self.logger = logger
        self.nodeTag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    /// Binds the port and starts the service thread. Throws when the port
    /// cannot be bound or TLS files do not load.
    public func start() throws {
        LWSLog.install(logger)
        let adapter = BusAdapter(server: self)
        busAdapter = adapter  // the bus holds its sink weakly
        bus.attach(adapter)

        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(strdup(ProtocolVersion.v1))
        protocols[0].callback = gatewayCallback
        protocols[0].rx_buffer_size = 16 * 1024
        self.protocols = protocols

        var info = lws_context_creation_info()
        info.port = Int32(settings.port)
        let iface = strdup(settings.host)
        defer { free(iface) }
        info.iface = UnsafePointer(iface)
        info.protocols = UnsafePointer(protocols)
        info.extensions = sg_ws_extensions()
        info.user = Unmanaged.passUnretained(self).toOpaque()
        info.timeout_secs = UInt32(settings.handshakeTimeoutSeconds)
        info.fd_limit_per_thread = UInt32(settings.maxConnections + 64)
        var options = UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8)
        if !settings.host.contains(":") {
            // lws otherwise binds an IPv4 address as a dual-stack socket on every interface.
            options |= UInt64(LWS_SERVER_OPTION_DISABLE_IPV6)
        }
        let alpn = strdup("http/1.1")
        defer { free(alpn) }
        var cert: UnsafeMutablePointer<CChar>?
        var key: UnsafeMutablePointer<CChar>?
        defer { free(cert); free(key) }
        if let certPath = settings.tlsCertPath, let keyPath = settings.tlsKeyPath {
            options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
            cert = strdup(certPath)
            key = strdup(keyPath)
            info.ssl_cert_filepath = UnsafePointer(cert)
            info.ssl_private_key_filepath = UnsafePointer(key)
            info.alpn = UnsafePointer(alpn)  // no HTTP/2: WebSocket over h2 is not offered
        }
        info.options = options

        guard let context = lws_create_context(&info) else {
            throw ServerStartError("cannot listen on \(settings.host):\(settings.port) (in use, bad address, or TLS files unreadable)")
        }
        self.context = context
        timer = sg_timer_start(context, 1_000_000, serverTick, Unmanaged.passUnretained(self).toOpaque())
        reorderTimer = sg_timer_start(context, 10_000, reorderTick, Unmanaged.passUnretained(self).toOpaque())

        startReadinessProbe()
        let thread = Thread { [self] in serviceLoop() }
        thread.name = "lws-service"
        thread.stackSize = 4 << 20
        serviceThread = thread
        thread.start()
    }

    /// Blocks until the server has drained and stopped.
    public func waitUntilStopped() {
        finished.wait()
    }

    /// Starts a drain: stop accepting, finish in-flight commands, close every
    /// connection with 1001, stop. Any thread.
    public func beginDrain() {
        post(.drain)
    }

    /// Queues work for the service thread and wakes it. Any thread.
    func post(_ work: Work) {
        if inbox.post(work), let context {
            lws_cancel_service(context)
        }
    }

    var isReady: Bool { readiness.value }

    private func serviceLoop() {
        guard let context else { return }
        while running {
            if lws_service(context, 0) < 0 { break }
        }
        sg_timer_stop(timer)
        sg_timer_stop(reorderTimer)
        timer = nil
        reorderTimer = nil
        lws_context_destroy(context)
        readiness.stopped = true
        finished.signal()
    }

    /// Stops the service loop after the current iteration. Service thread.
    func stopLoop() {
        running = false
        if let context { lws_cancel_service(context) }
    }

    private func startReadinessProbe() {
        let handler = self.handler
        let bus = self.bus
        let readiness = self.readiness
        Task.detached {
            while !readiness.stopped {
                let ready = await handler.backendsReady()
                readiness.value = ready && bus.isHealthy()
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
    }
}

/// Why the server could not start.
public struct ServerStartError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The bus's view of the server: deliveries become work for the service thread.
private final class BusAdapter: BusSink, @unchecked Sendable {
    // `server` outlives the bus attachment (both live for the process).
    unowned let server: GatewayServer
    init(server: GatewayServer) { self.server = server }
    func deliver(_ events: [BusEvent]) { server.post(.deliver(events)) }
    func busInterrupted() { server.post(.busInterrupted) }
}

/// The last readiness probe's answer, read by `/readyz` on the service thread.
private final class ReadinessFlag: @unchecked Sendable {
    // The lock guards both fields.
    private let lock = NSLock()
    private var _value = false
    private var _stopped = false
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return _value }
        set { lock.lock(); _value = newValue; lock.unlock() }
    }
    var stopped: Bool {
        get { lock.lock(); defer { lock.unlock() }; return _stopped }
        set { lock.lock(); _stopped = newValue; lock.unlock() }
    }
}

/// Every 10 ms on the service thread: delivers chat events held past the reorder window.
private func reorderTick(_ user: UnsafeMutableRawPointer?) {
    guard let user else { return }
    Unmanaged<GatewayServer>.fromOpaque(user).takeUnretainedValue().flushReorder()
}

/// The periodic tick (once a second) on the service thread.
private func serverTick(_ user: UnsafeMutableRawPointer?) {
    guard let user else { return }
    Unmanaged<GatewayServer>.fromOpaque(user).takeUnretainedValue().tick()
}
