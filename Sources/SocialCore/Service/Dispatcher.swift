import Logging
import Metrics
import SocialProtocol

/// Runs the client commands that need the store's reads or several steps
/// (groups, chat lists, history, sync, presence, notifications, the REST
/// proxy) in a Swift task, and offers the parts of the service the transport's
/// `CommandPipeline` uses (`log`, the chat-log ops without a task).
///
/// One instance serves every session of the node; it keeps no per-session
/// state (the pipeline owns rate limits and the typing throttle).
///
/// Ordering: a reply is returned only after the store call it reports on has
/// returned (is durable); events of a chat change are published from the
/// store's completion, in the chat's commit order (`commit`), user-topic
/// events before chat-topic events of the same change.
public final class Dispatcher: Sendable {
    let store: any ChatStore
    let bus: any EventBus
    public let limits: ChatLimits
    let clock: @Sendable () -> Int64
    let ids: @Sendable (ChatKind) -> ChatID
    let logger: Logger
    let presence: any PresenceStore
    /// Where `proxy.request` goes; nil when no upstream is configured.
    let proxy: (any UpstreamProxy)?
    /// Notifications: the inbox ops, and the digest when a user's training ends.
    public let notifications: NotificationService
    /// The chat-log ops, straight to the store's writer.
    public let log: ChatLogCommands

    /// - Parameters:
    ///   - store: where chats, members and messages live.
    ///   - bus: where events go after each change.
    ///   - limits: the limits commands are held to.
    ///   - clock: milliseconds since 1970; message timestamps and the typing throttle read it.
    ///   - ids: makes a new, unique chat id of a kind (`ChatIDs.random` in production).
    ///   - logger: where internal errors and backend failures are logged.
    ///   - presence: where sessions' presence lives (shared by every node in the distributed mode).
    ///   - proxy: the REST proxy behind `proxy.request`; nil refuses every service.
    ///   - notifications: the notification service; nil: an in-memory inbox with no push webhook.
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
        self.log = ChatLogCommands(store: store, bus: bus, limits: limits, clock: clock, logger: logger)
    }

    /// Runs one command in the calling task: the reply, and the topics the
    /// calling session starts or stops receiving. Never throws: bad args get
    /// `invalid_args` naming the field, an unknown op `unknown_op`, a store
    /// failure `unavailable`, a bug `internal` (logged). Rate limits and bot
    /// scopes are the pipeline's, checked before. While it runs,
    /// `RequestContext.requestId` is `<session>-<command id>` and
    /// `RequestContext.trace` is `span` (the pipeline's `span(for:)`; nil:
    /// a child of the command's `traceparent`, or a new trace).
    public func execute(_ command: Command, from caller: Caller, span: TraceContext? = nil) async -> CommandOutcome {
        let context = RequestContext.Snapshot(requestId: "\(caller.sessionId)-\(command.id)",
                                              trace: span ?? .span(continuing: command.traceparent))
        return await context.bind {
            var effects = SessionEffects()
            do {
                let args = try command.args.get()
                let reply = try await run(args, id: command.id, caller, &effects)
                return CommandOutcome(reply: reply, subscribe: effects.subscribe, unsubscribe: effects.unsubscribe)
            } catch {
                return .error(id: command.id, errorBody(error, op: command.op, caller: caller))
            }
        }
    }

    /// The chats `user` is a member of: the transport subscribes a new session to them.
    public func chats(of user: UserID) async throws -> [ChatID] {
        try await store.memberships(of: user).map(\.chat.id)
    }

    /// Runs `args` and returns the encoded ok reply to command `id`.
    private func run(_ args: CommandArgs, id: Int, _ caller: Caller,
                     _ effects: inout SessionEffects) async throws -> [UInt8] {
        func ok<Result: Encodable>(_ result: Result) -> [UInt8] { Codec.ok(id: id, result) }
        switch args {
        case .ping: return ok(PingResult(serverTime: clock()))
        case .groupCreate(let a): return ok(try await createGroup(a, caller, &effects))
        case .groupInvite(let a): return ok(try await invite(a, caller))
        case .groupJoin(let a): return ok(try await join(a, caller))
        case .groupLeave(let a): return ok(try await leave(a, caller))
        case .groupKick(let a): return ok(try await kick(a, caller))
        case .groupSetRole(let a): return ok(try await setRole(a, caller))
        case .groupTransfer(let a): return ok(try await transfer(a, caller))
        case .groupRename(let a): return ok(try await rename(a, caller))
        case .groupInfo(let a): return ok(try await groupInfo(a, caller))
        case .groupsList: return ok(try await groupsList(caller))
        case .chatOpenDirect(let a): return ok(try await openDirect(a, caller, &effects))
        case .chatsList: return ok(try await chatsList(caller))
        case .chatHistory(let a): return ok(try await history(a, caller))
        case .chatTyping(let a): return ok(try await typing(a, caller))
        case .sync(let a): return ok(try await sync(a, caller))
        case .presenceSet(let a): return ok(try await presenceSet(a, caller))
        case .presenceSubscribe(let a): return ok(try await presenceSubscribe(a, caller, &effects))
        case .presenceUnsubscribe(let a): return ok(try presenceUnsubscribe(a, &effects))
        case .presenceQuery(let a): return ok(try await presenceQuery(a, caller))
        case .proxyRequest(let a): return ok(try await proxyRequest(a, caller))
        case .notificationsList(let a): return ok(try await notificationsList(a, caller))
        case .notificationsAck(let a): return ok(try await notificationsAck(a, caller))
        case .chatSend, .chatEdit, .chatDelete, .chatReact, .chatRead:
            // The pipeline submits these without a task; run here, they take the same path.
            let change: LogChange
            switch log.change(args, caller: caller) {
            case .success(let checked)?: change = checked
            case .failure(let body)?: throw body
            case nil: throw ServiceError(.internalError, "not a chat-log op")
            }
            let span = RequestContext.trace
            let outcome = await withCheckedContinuation { continuation in
                log.submit(change, id: id, caller: caller, span: span) { continuation.resume(returning: $0) }
            }
            return outcome.reply
        }
    }

    /// The error reply for what an op threw. Store failures are logged (they
    /// are an operator's concern); anything unexpected is a bug, logged as such.
    private func errorBody(_ error: any Error, op: String, caller: Caller) -> ErrorBody {
        switch error {
        case let error as ServiceError:
            return error.body
        case let error as ErrorBody:
            return error
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
