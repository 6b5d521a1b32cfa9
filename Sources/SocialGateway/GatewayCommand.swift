import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import SocialAuth
import SocialCore
import SocialHTTP
import SocialLWS
import SocialMongo
import SocialRedis
import SocialSQLite

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "social-gateway",
        abstract: "The real-time social and chat gateway: WebSocket protocol social.v1 on libwebsockets.",
        discussion: "Every flag can also be set with its SOCIAL_GATEWAY_<NAME> environment variable. See README.md and protocol/.")

    @OptionGroup var options: GatewayOptions

    func run() async throws {
        let level = Logger.Level(rawValue: options.logLevel) ?? .info
        // Lines logged while a command runs carry its `request_id` (see `RequestContext`).
        LoggingSystem.bootstrap({ label, provider in
            var handler = StreamLogHandler.standardError(label: label, metadataProvider: provider)
            handler.logLevel = level
            return handler
        }, metadataProvider: RequestContext.metadataProvider)
        let logger = Logger(label: "social.gateway")
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // The bus works in fractions of a millisecond on one network: finer buckets than the default 5 ms–10 s.
        let busBuckets: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                      .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5)]
        factory.durationHistogramBuckets["social_bus_lag_seconds"] = busBuckets
        factory.durationHistogramBuckets["social_bus_publish_duration_seconds"] = busBuckets
        MetricsSystem.bootstrap(factory)

        let verifier: TokenVerifier
        do {
            verifier = try await TokenVerifier.make(authSettings())
        } catch {
            throw ValidationError("\(error)")
        }
        for skipped in verifier.skippedKeys { logger.warning("JWKS key skipped: \(skipped)") }

        let proxy = try makeProxy()  // before the store opens: a bad setting exits at once
        let push = pushSender()
        let opened = try await makeStore(logger: logger)
        let store = OpenedStore(chatStore: InstrumentedChatStore(opened.chatStore), botStore: opened.botStore,
                                notificationStore: opened.notificationStore, check: opened.check, close: opened.close)
        // Redis need not be up: the bus and presence connect in the background (`/readyz` says when).
        let bus = try makeBus(logger: logger)
        let presence = try makePresence()
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
        let notifications = NotificationService(store: store.notificationStore, bus: bus, presence: presence,
                                                push: push, limits: notificationLimits(push), clock: clock,
                                                logger: Logger(label: "social.notifications"))
        let dispatcher = Dispatcher(store: store.chatStore, bus: bus, limits: try chatLimits(),
                                    clock: clock, ids: ChatIDs.random, logger: Logger(label: "social.dispatcher"),
                                    presence: presence, proxy: proxy, notifications: notifications)
        let bots = BotDirectory(store: store.botStore, logger: Logger(label: "social.bots"))
        await bots.refresh()
        let server: GatewayServer
        do {
            server = try GatewayServer(settings: serverSettings(), dispatcher: dispatcher, verifier: verifier, bus: bus,
                                       logger: Logger(label: "social.transport"), metrics: { registry.emitToBuffer() },
                                       api: apiRoutes(bus: bus, dispatcher: dispatcher, bots: bots),
                                       bots: bots.credentials,
                                       backends: [store.check, busCheck(bus), presenceCheck(presence)])
            try server.start()
        } catch {
            await store.close()
            throw ValidationError("\(error)")
        }
        let pushResumer = Task.detached {
            // Pushes left pending by a node that stopped or died (this one, before a restart, included).
            while !Task.isCancelled {
                await notifications.resumeStalledPushes()
                try? await Task.sleep(nanoseconds: 5_000_000_000)
            }
        }
        let streams = try notificationStreams(notifications)
        let signals = SignalDrain(server: server, logger: logger)
        let botRefresh = Task.detached { [refreshSeconds = options.botRefreshSeconds] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(refreshSeconds) * 1_000_000_000)
                await bots.refresh()
            }
        }
        let sweeper = Task.detached {
            // Takes offline the users of nodes that died (their presence expired).
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 2_000_000_000)
                await dispatcher.sweepPresence()
            }
        }
        logger.info("listening", metadata: [
            "address": "\(options.host):\(options.port)", "tls": "\(!options.tlsCert.isEmpty)",
            "store": "\(options.store.hasPrefix("mongodb") ? "mongodb" : options.store)", "bus": "\(options.bus)",
        ])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                server.waitUntilStopped()
                done.resume()
            }
        }
        signals.cancel()
        // Everything that calls the store stops before the store closes.
        sweeper.cancel()
        botRefresh.cancel()
        pushResumer.cancel()
        for stream in streams { stream.stop() }
        for stream in streams { await stream.waitUntilExited() }
        await sweeper.value
        await botRefresh.value
        await pushResumer.value
        await server.presenceSettled()
        // Pushes under way get a moment; those still running are left pending for the next start.
        await notifications.shutdown(graceMs: Int64(min(options.drainTimeout, 5)) * 1000)
        push?.close()
        await Self.blocking {
            proxy?.close()
            (bus as? RedisBus)?.close()
            (presence as? RedisPresenceStore)?.close()
        }
        await store.close()
        let left = WorkerThreads.alive(after: 2)
        if left.isEmpty {
            logger.info("stopped", metadata: ["worker_threads_left": "none"])
        } else {
            logger.error("stopped with worker threads still running", metadata: [
                "worker_threads_left": "\(left.joined(separator: ","))"])
        }
    }

    /// Runs `body`, which blocks (joins threads), on a thread of its own:
    /// not on Swift's cooperative pool.
    private static func blocking(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                body()
                done.resume()
            }
        }
    }

    private func authSettings() throws -> AuthSettings {
        var jwks: String?
        if let path = GatewayOptions.optional(options.jwtPublicKeys) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read --jwt-public-keys \(path)")
            }
            jwks = text
        }
        return AuthSettings(hmacSecret: options.secret, jwksJSON: jwks,
                            issuer: GatewayOptions.optional(options.jwtIssuer),
                            audience: GatewayOptions.optional(options.jwtAudience), leewaySeconds: Double(options.jwtLeeway))
    }

    private func serverSettings() -> ServerSettings {
        var s = ServerSettings()
        s.host = options.host
        s.port = options.port
        s.tlsCertPath = GatewayOptions.optional(options.tlsCert)
        s.tlsKeyPath = GatewayOptions.optional(options.tlsKey)
        s.maxMessageBytes = options.maxMessageBytes
        s.allowedOrigins = options.allowedOrigins.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        s.pingIntervalSeconds = options.pingInterval
        s.idleTimeoutSeconds = options.idleTimeout
        s.handshakeTimeoutSeconds = options.handshakeTimeout
        s.sendQueueMaxFrames = options.sendQueueFrames
        s.sendQueueMaxBytes = options.sendQueueBytes
        s.batchMaxBytes = options.batchMaxBytes
        s.maxInflight = options.maxInflight
        s.drainTimeoutSeconds = options.drainTimeout
        s.drainMaxClosing = options.drainMaxClosing
        s.maxConnections = options.maxConnections
        s.maxPendingHandshakes = options.maxPendingHandshakes
        s.tokenLeewaySeconds = options.jwtLeeway
        s.reorderWindowMs = options.reorderWindowMs
        s.presenceHeartbeatSeconds = max(1, options.presenceTtl / 3)
        s.maxAPIBodyBytes = options.apiMaxBodyBytes
        s.apiTimeoutMs = options.apiTimeoutMs
        return s
    }

    /// Every endpoint of the backend API (`/api/v1`); each feature contributes its list.
    private func apiRoutes(bus: any EventBus, dispatcher: Dispatcher, bots: BotDirectory) -> [APIRoute] {
        SessionRoutes.routes(bus: bus)
            + BotRoutes(store: bots.store, bus: bus,
                        secrets: .init(make: BotCredentials.makeSecret, hash: BotCredentials.hash),
                        clock: { Int64(Date().timeIntervalSince1970 * 1000) }, changed: bots.changed).routes
            + MessageRoutes.routes(dispatcher: dispatcher, bots: bots.store)
            + NotificationRoutes.routes(dispatcher.notifications)
    }

    private func chatLimits() throws -> ChatLimits {
        var limits = ChatLimits()
        limits.rates = try options.rates()
        limits.maxTextBytes = options.maxTextBytes
        limits.maxGroupMembers = options.maxGroupMembers
        limits.typingIntervalMs = Int64(options.typingIntervalMs)
        limits.presenceTTLMs = Int64(options.presenceTtl) * 1000
        limits.botMaxChats = options.botMaxChats
        return limits
    }

    /// The REST proxy behind `proxy.request`, when an upstream is configured.
    private func makeProxy() throws -> HTTPUpstreamProxy? {
        var settings: ProxySettings
        do {
            settings = try ProxySettings(upstreams: options.upstream, allow: options.upstreamAllow)
        } catch {
            throw ValidationError("\(error)")
        }
        guard !settings.upstreams.isEmpty else { return nil }
        settings.connectTimeoutMs = options.proxyConnectTimeoutMs
        settings.timeoutMs = options.proxyTimeoutMs
        settings.maxResponseBytes = options.proxyMaxResponseBytes
        settings.maxPerUser = options.proxyMaxPerUser
        settings.breakerFailures = options.proxyBreakerFailures
        settings.breakerOpenMs = options.proxyBreakerOpenMs
        settings.workers = options.proxyWorkers
        return HTTPUpstreamProxy(settings: settings, logger: Logger(label: "social.proxy"))
    }

    private func notificationLimits(_ push: PushWebhook?) -> NotificationLimits {
        var limits = NotificationLimits()
        limits.maxUsers = options.notifyMaxUsers
        limits.maxPushInflight = options.pushMaxInflight
        // A node owns a push it started for as long as the push may take, plus a margin.
        if let push { limits.pushLeaseMs = Int64(push.longestPushMs) + 10_000 }
        return limits
    }

    /// The push webhook, when `--push-webhook-url` is set.
    private func pushSender() -> PushWebhook? {
        guard let url = GatewayOptions.optional(options.pushWebhookUrl).flatMap(URL.init(string:)) else { return nil }
        var settings = PushWebhookSettings(url: url, bearerToken: options.pushToken)
        settings.attempts = options.pushAttempts
        settings.initialBackoffMs = options.pushBackoffMs
        settings.maxBackoffMs = options.pushMaxBackoffMs
        settings.timeoutMs = options.pushTimeoutMs
        return PushWebhook(settings: settings, logger: Logger(label: "social.push"))
    }

    /// The Redis stream ingest of notifications, when the bus is Redis and
    /// `--notify-stream` is set: one per shard (each holds a partition of the
    /// stream); they start reading at once.
    private func notificationStreams(_ service: NotificationService) throws -> [RedisStreamIngest] {
        guard options.bus.hasPrefix("redis://"), !options.notifyStream.isEmpty else { return [] }
        let urls: [RedisURL]
        do {
            urls = try RedisURL.list(parsing: options.bus)
        } catch {
            throw ValidationError("--bus: \(error)")
        }
        var settings = StreamIngestSettings(
            consumer: GatewayOptions.optional(options.notifyStreamConsumer) ?? "\(ProcessInfo.processInfo.hostName)-\(options.port)")
        settings.stream = options.notifyStream
        settings.claimIdleMs = options.notifyStreamClaimIdleMs
        let handler: RedisStreamIngest.Handler = { entry in
            guard let body = entry.fields["notification"] else {
                return .rejected("the entry has no notification field")
            }
            switch await NotificationRoutes.ingest(body, service) {
            case .stored: return .stored
            case .rejected(let reason): return .rejected(reason)
            case .retry(let reason): return .retryLater(reason)
            }
        }
        return urls.enumerated().map { index, url in
            var logger = Logger(label: "social.notify-stream")
            if urls.count > 1 { logger[metadataKey: "shard"] = "\(index)" }
            return RedisStreamIngest(url: url, settings: settings, logger: logger, handler: handler)
        }
    }

    private func makeBus(logger: Logger) throws -> any EventBus {
        guard options.bus.hasPrefix("redis://") else { return LocalBus() }
        do {
            return try RedisBus(url: options.bus, logger: Logger(label: "social.bus"))
        } catch {
            throw ValidationError("--bus: \(error)")
        }
    }

    /// Presence lives where the bus is: in Redis for many nodes, in memory for one.
    private func makePresence() throws -> any PresenceStore {
        guard options.bus.hasPrefix("redis://") else { return MemoryPresenceStore() }
        do {
            return try RedisPresenceStore(url: options.bus, logger: Logger(label: "social.presence"))
        } catch {
            throw ValidationError("--bus: presence store: \(error)")
        }
    }

    /// The store. MongoDB need not be up: the store starts unready and
    /// creates its indexes once the database answers; only a bad setting
    /// (URI, write concern) or an unusable data directory stops the start.
    private func makeStore(logger: Logger) async throws -> OpenedStore {
        if options.store.hasPrefix("mongodb") {
            do {
                let mongo = try await MongoChatStore(uri: options.store, database: options.mongoDatabase,
                                                     serverSelectionTimeoutMS: options.mongoTimeoutMs,
                                                     writeConcern: options.mongoWriteConcern, workers: options.mongoWorkers,
                                                     logger: Logger(label: "social.mongo"))
                return OpenedStore(chatStore: mongo, botStore: mongo, notificationStore: mongo,
                                   check: BackendCheck(name: "mongodb") { await mongo.unreadyReason() },
                                   close: { await mongo.close() })
            } catch {
                throw ValidationError("--store: cannot start the MongoDB store: \(error)")
            }
        }
        switch options.store {
        case "memory":
            logger.warning("--store memory keeps nothing across restarts")
            return OpenedStore(chatStore: MemoryChatStore(), botStore: MemoryBotStore(),
                               notificationStore: MemoryNotificationStore(),
                               check: BackendCheck(name: "memory") { nil }, close: {})
        default:
            let sqlite = try SQLiteChatStore(directory: options.dataDir, commitDelay: .microseconds(options.commitDelayUs))
            return OpenedStore(chatStore: sqlite, botStore: sqlite, notificationStore: sqlite,
                               check: BackendCheck(name: "sqlite") {
                                   await sqlite.ping() ? nil : "the database in \(options.dataDir) does not answer"
                               },
                               close: { await sqlite.close() })
        }
    }

    /// `/readyz`'s view of the bus: the Redis bus is ready while both its connections are up.
    private func busCheck(_ bus: any EventBus) -> BackendCheck {
        guard bus.isDistributed else { return BackendCheck(name: "local_bus") { nil } }
        let url = options.bus
        return BackendCheck(name: "redis_bus") {
            bus.isHealthy() ? nil : "not connected to Redis at \(url) (publisher or subscriber down; reconnecting)"
        }
    }

    /// `/readyz`'s view of presence: in Redis with the bus, else in memory.
    private func presenceCheck(_ presence: any PresenceStore) -> BackendCheck {
        guard let redis = presence as? RedisPresenceStore else { return BackendCheck(name: "memory_presence") { nil } }
        let url = options.bus
        return BackendCheck(name: "redis_presence") {
            // Several shards: ready while any is up, as the bus (every node shares
            // the shards; `bus_down` names the one that is down).
            redis.isServing() ? nil : "not connected to Redis at \(url) (reconnecting)"
        }
    }
}

/// A store, how `/readyz` probes it, and how to close it at shutdown.
struct OpenedStore {
    let chatStore: any ChatStore
    let botStore: any BotStore
    /// The same database's notifications.
    let notificationStore: any NotificationStore
    let check: BackendCheck
    let close: @Sendable () async -> Void
}
