import Logging
import Metrics
import SocialProtocol

/// Runs client commands: reads a command frame, checks the caller's rights
/// and the limits, calls the store, publishes the resulting events to the bus
/// and returns the encoded reply.
///
/// The transport calls `handle` for every command frame of a session, from
/// any task; its only per-session state is the rate limiter's buckets (made
/// by `sessionOpened`, dropped by `sessionClosed`) and the typing throttle,
/// so one instance serves every session of the node.
///
/// Ordering: a reply is returned only after the store call it reports on has
/// returned (is durable), and events are published after that store call too,
/// user-topic events before chat-topic events of the same change.
public final class Dispatcher: Sendable {
    let store: any ChatStore
    let bus: any EventBus
    let limits: ChatLimits
    let clock: @Sendable () -> Int64
    let ids: @Sendable (ChatKind) -> ChatID
    let logger: Logger
    let typingThrottle: TypingThrottle
    let presence: any PresenceStore
    /// The sessions' token buckets; nil when `limits.rates` sets no limit.
    let rateLimits: SessionRateLimits?
    /// Where `proxy.request` goes; nil when no upstream is configured.
    let proxy: (any UpstreamProxy)?
    /// Notifications: the inbox ops, and the digest when a user's training ends.
    public let notifications: NotificationService

    /// - Parameters:
    ///   - store: where chats, members and messages live.
    ///   - bus: where events go after each change.
    ///   - limits: the limits commands are held to.
    ///   - clock: milliseconds since 1970; message timestamps and the typing throttle read it.
    ///   - ids: makes a new, unique chat id of a kind (`ChatIDs.random` in production).
    ///   - logger: where internal errors and backend failures are logged.
    ///   - presence: where sessions' presence lives (shared by every node in the distributed mode).
    ///   - proxy: the REST proxy behind `proxy.request`; nil refuses every service.
    ///   - notifications: makes the notification service from the bus, presence store and clock;
    ///     nil: an in-memory inbox with no push webhook.
    public init(store: any ChatStore, bus: any EventBus, limits: ChatLimits = .init(),
                clock: @escaping @Sendable () -> Int64, ids: @escaping @Sendable (ChatKind) -> ChatID, logger: Logger,
                presence: any PresenceStore = MemoryPresenceStore(), proxy: (any UpstreamProxy)? = nil,
                notifications: NotificationService? = nil) {
        self.store = store
        self.proxy = proxy
        self.presence = presence
        self.notifications = notifications ?? NotificationService(
            store: MemoryNotificationStore(), bus: bus, presence: presence, push: nil, clock: clock, logger: logger)
        self.bus = bus
        self.limits = limits
        self.clock = clock
        self.ids = ids
        self.logger = logger
        self.typingThrottle = TypingThrottle(intervalMs: limits.typingIntervalMs, capacity: limits.typingTableCapacity)
        self.rateLimits = limits.rates.isEnabled ? SessionRateLimits(settings: limits.rates) : nil
        if limits.rates.isEnabled {
            // Every class's rejection series exists from the start, at 0.
            for rateClass in RateClass.allCases { Self.rateLimited(rateClass).increment(by: 0) }
        }
    }

    /// Runs one command frame and returns the reply frame. Never throws: a
    /// frame that cannot be read gets `bad_request` (with `"id": null` when
    /// the id is unreadable), an unknown op `unknown_op`, bad args
    /// `invalid_args` naming the field, and a bug `internal` (logged).
    /// - Parameters:
    ///   - frame: the text frame's bytes, a JSON command `{"id", "op", "args"}`.
    ///   - caller: the session's authenticated user and device.
    public func handle(_ frame: [UInt8], from caller: Caller) async -> [UInt8] {
        await execute(frame, from: caller).reply
    }

    /// Runs one command frame: its reply, and the topics the calling session
    /// starts or stops receiving. Never throws (see `handle`). A command over
    /// the session's rate limits gets `rate_limited` without running; a
    /// client that keeps going gets its outcome's `close` set to 4004.
    /// While it runs, `RequestContext.requestId` is `<session>-<command id>`.
    public func execute(_ frame: [UInt8], from caller: Caller) async -> CommandOutcome {
        let header: CommandHeader
        do {
            header = try Codec.header(of: frame)
        } catch {
            return CommandOutcome(reply: Codec.error(id: error.id, error.body))
        }
        return await RequestContext.$requestId.withValue("\(caller.sessionId)-\(header.id)") {
            await execute(header, frame, caller)
        }
    }

    private func execute(_ header: CommandHeader, _ frame: [UInt8], _ caller: Caller) async -> CommandOutcome {
        var effects = SessionEffects()
        let start = ContinuousClock.now
        let op = Self.knownOps.contains(header.op) ? header.op : "unknown"
        var result = "ok"
        defer {
            let nanoseconds = start.nanosecondsSince
            Counter(label: "social_commands_total", dimensions: [("op", op), ("result", result)]).increment()
            Timer(label: "social_command_duration_seconds", dimensions: [("op", op)]).recordNanoseconds(nanoseconds)
            // One line per command at debug level (with its request_id, like everything logged inside it).
            logger.debug("command", metadata: [
                "op": .string(op), "result": .string(result), "user": .string(caller.userId),
                "duration_us": .stringConvertible(nanoseconds / 1000)])
        }
        if let rejected = await rateLimitRejection(header, caller) {
            result = ErrorCode.rateLimited.rawValue
            return rejected
        }
        do {
            let reply = try await run(header, frame, caller, &effects)
            return CommandOutcome(reply: reply, subscribe: effects.subscribe, unsubscribe: effects.unsubscribe)
        } catch {
            let body = errorBody(error, op: header.op, caller: caller)
            result = body.code.rawValue
            return CommandOutcome(reply: Codec.error(id: header.id, body))
        }
    }

    /// Op names used as metric labels; anything else counts as `unknown`, so
    /// clients cannot grow the label set.
    static let knownOps: Set<String> = [
        Op.ping, Op.groupCreate, Op.groupInvite, Op.groupJoin, Op.groupLeave, Op.groupKick, Op.groupSetRole,
        Op.groupTransfer, Op.groupRename, Op.groupInfo, Op.groupsList, Op.chatOpenDirect, Op.chatsList, Op.chatSend,
        Op.chatEdit, Op.chatDelete, Op.chatReact, Op.chatHistory, Op.chatRead, Op.chatTyping, Op.sync,
        Op.presenceSet, Op.presenceSubscribe, Op.presenceUnsubscribe, Op.presenceQuery,
        // REST proxy
        Op.proxyRequest,
        Op.notificationsList, Op.notificationsAck,
    ]

    /// The chats `user` is a member of: the transport subscribes a new session to them.
    public func chats(of user: UserID) async throws -> [ChatID] {
        try await store.memberships(of: user).map(\.chat.id)
    }

    /// Decodes the args of `header.op` and runs it.
    private func run(_ header: CommandHeader, _ frame: [UInt8], _ caller: Caller,
                     _ effects: inout SessionEffects) async throws -> [UInt8] {
        let id = header.id
        func reply<Args: Decodable, Result: Encodable>(
            _ type: Args.Type, _ body: (Args) async throws -> Result
        ) async throws -> [UInt8] {
            let args = try Codec.args(type, of: frame, id: id)
            return Codec.ok(id: id, try await body(args))
        }
        if caller.kind == .bot, !BotScope.allows(header.op, scopes: caller.scopes) {
            throw ServiceError.forbidden("a bot with scopes [\(caller.scopes.joined(separator: " "))] may not use \(header.op)")
        }
        switch header.op {
        case Op.ping: return try await reply(PingArgs.self) { _ in PingResult(serverTime: clock()) }
        case Op.groupCreate: return try await reply(GroupCreateArgs.self) { try await createGroup($0, caller) }
        case Op.groupInvite: return try await reply(GroupUserArgs.self) { try await invite($0, caller) }
        case Op.groupJoin: return try await reply(GroupRef.self) { try await join($0, caller) }
        case Op.groupLeave: return try await reply(GroupRef.self) { try await leave($0, caller) }
        case Op.groupKick: return try await reply(GroupUserArgs.self) { try await kick($0, caller) }
        case Op.groupSetRole: return try await reply(GroupSetRoleArgs.self) { try await setRole($0, caller) }
        case Op.groupTransfer: return try await reply(GroupUserArgs.self) { try await transfer($0, caller) }
        case Op.groupRename: return try await reply(GroupRenameArgs.self) { try await rename($0, caller) }
        case Op.groupInfo: return try await reply(GroupRef.self) { try await groupInfo($0, caller) }
        case Op.groupsList: return try await reply(Empty.self) { _ in try await groupsList(caller) }
        case Op.chatOpenDirect: return try await reply(OpenDirectArgs.self) { try await openDirect($0, caller) }
        case Op.chatsList: return try await reply(Empty.self) { _ in try await chatsList(caller) }
        case Op.chatSend: return try await reply(SendArgs.self) { try await send($0, caller) }
        case Op.chatEdit: return try await reply(EditArgs.self) { try await edit($0, caller) }
        case Op.chatDelete: return try await reply(ChatSeqArgs.self) { try await delete($0, caller) }
        case Op.chatReact: return try await reply(ReactArgs.self) { try await react($0, caller) }
        case Op.chatHistory: return try await reply(HistoryArgs.self) { try await history($0, caller) }
        case Op.chatRead: return try await reply(ChatSeqArgs.self) { try await read($0, caller) }
        case Op.chatTyping: return try await reply(TypingArgs.self) { try await typing($0, caller) }
        case Op.sync: return try await reply(SyncArgs.self) { try await sync($0, caller) }
        case Op.presenceSet: return try await reply(PresenceSetArgs.self) { try await presenceSet($0, caller) }
        case Op.presenceSubscribe:
            let args = try Codec.args(PresenceUsersArgs.self, of: frame, id: id)
            return Codec.ok(id: id, try await presenceSubscribe(args, caller, &effects))
        case Op.presenceUnsubscribe:
            let args = try Codec.args(PresenceUsersArgs.self, of: frame, id: id)
            return Codec.ok(id: id, try presenceUnsubscribe(args, &effects))
        case Op.presenceQuery: return try await reply(PresenceUsersArgs.self) { try await presenceQuery($0, caller) }
        // REST proxy
        case Op.proxyRequest: return try await reply(ProxyRequestArgs.self) { try await proxyRequest($0, caller) }
        case Op.notificationsList:
            return try await reply(NotificationsListArgs.self) { try await notificationsList($0, caller) }
        case Op.notificationsAck:
            return try await reply(NotificationsAckArgs.self) { try await notificationsAck($0, caller) }
        default: throw ServiceError.unknownOp(header.op)
        }
    }

    /// The error reply for what an op threw. Store failures are logged (they
    /// are an operator's concern); anything unexpected is a bug, logged as such.
    private func errorBody(_ error: any Error, op: String, caller: Caller) -> ErrorBody {
        switch error {
        case let error as ServiceError:
            return error.body
        case let error as CommandDecodingError:
            return error.body
        case let error as ProxyFailure:
            return error.body
        case let error as StoreError:
            if error.isNotFound { return ErrorBody(.notFound, error.message) }
            if error.isConflict { return ErrorBody(.conflict, error.message) }
            logger.warning("store unavailable", metadata: ["op": .string(op), "error": .string(error.description)])
            return ErrorBody(.unavailable, "the store is unavailable, retry later")
        case is CancellationError:
            return ErrorBody(.unavailable, "cancelled, retry later")
        default:
            logger.error("internal error", metadata: [
                "op": .string(op), "user": .string(caller.userId), "session": .string(caller.sessionId),
                "error": .string(String(describing: error)),
            ])
            return ErrorBody(.internalError, "internal error")
        }
    }
}
