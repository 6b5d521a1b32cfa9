import Logging
import Metrics
import SocialProtocol

/// How a connection's commands start, on the one thread that owns the
/// connections (the transport's service thread): the first step of every
/// command after its frame was parsed.
///
/// - Rate limits, bot scopes, unknown ops and unreadable args are answered at
///   once, as are the ops that need no store: `ping`, `chat.typing` (for a
///   chat the session follows), `presence.unsubscribe`.
/// - Chat-log changes (`chat.send`, `chat.edit`, `chat.delete`, `chat.react`,
///   `chat.read`) are checked against the limits here and handed back, to be
///   submitted to the store's writer in the connection's order (`submit`).
/// - Everything else runs through the `Dispatcher` in a task.
///
/// A value type, not `Sendable`: it holds the sessions' rate-limit buckets and
/// the typing throttle, owned by that one thread, so no lock or actor is
/// crossed per command.
public struct CommandPipeline {
    /// What to do with a command.
    public enum Start {
        /// Answered: send this outcome.
        case done(CommandOutcome)
        /// A chat-log change: `submit` it when the connection's order allows.
        case log(LogChange)
        /// Run it through `Dispatcher.execute` in a task.
        case task(Command)
    }

    public let dispatcher: Dispatcher
    public let log: ChatLogCommands
    private var limiter: RateLimiter?
    private var typing: TypingThrottle
    /// Span ids for commands: no system call per command.
    private var ids = TraceIDGenerator()
    private let clock: @Sendable () -> Int64
    private let logger: Logger

    public init(dispatcher: Dispatcher) {
        self.dispatcher = dispatcher
        log = dispatcher.log
        limiter = dispatcher.limits.rates.isEnabled ? RateLimiter(settings: dispatcher.limits.rates) : nil
        typing = TypingThrottle(intervalMs: dispatcher.limits.typingIntervalMs,
                                capacity: dispatcher.limits.typingTableCapacity)
        clock = dispatcher.clock
        logger = dispatcher.logger
        if limiter != nil {
            // Every class's rejection series exists from the start, at 0.
            for counter in Self.rateLimitedCounters.values { counter.increment(by: 0) }
        }
    }

    /// A session opened: its rate-limit buckets are made, full.
    public mutating func open(_ caller: Caller) {
        limiter?.open(caller, now: clock())
    }

    /// A session closed: its buckets go (a bot's shared bucket with its last session).
    public mutating func close(_ caller: Caller) {
        limiter?.close(sessionId: caller.sessionId)
    }

    /// The gateway's span of `command`: a child of the client's
    /// `traceparent`, or the root of a new trace. Everything the command
    /// publishes, calls and logs carries it.
    public mutating func span(for command: Command) -> TraceContext {
        TraceContext.span(continuing: command.traceparent, using: &ids)
    }

    /// The first step of `command` from `caller`.
    /// - Parameters:
    ///   - span: the command's span (`span(for:)`): an event published here carries it.
    ///   - follows: whether the calling session receives a chat's events
    ///     (so its user is a member: `chat.typing` needs no store then).
    public mutating func start(_ command: Command, span: TraceContext, caller: Caller,
                               follows: (ChatID) -> Bool) -> Start {
        if let rejected = rateLimitRejection(command, caller) { return .done(rejected) }
        if caller.kind == .bot, !BotScope.allows(command.op, scopes: caller.scopes) {
            return .done(.error(id: command.id, ErrorBody(
                .forbidden, "a bot with scopes [\(caller.scopes.joined(separator: " "))] may not use \(command.op)")))
        }
        let args: CommandArgs
        switch command.args {
        case .failure(let body): return .done(.error(id: command.id, body))
        case .success(let decoded): args = decoded
        }
        if let change = log.change(args, caller: caller) {
            switch change {
            case .success(let change): return .log(change)
            case .failure(let body): return .done(.error(id: command.id, body))
            }
        }
        switch args {
        case .ping:
            return .done(CommandOutcome(reply: Codec.ok(id: command.id, PingResult(serverTime: clock()))))
        case .chatTyping(let typingArgs):
            return typingIndicator(typingArgs, command, span: span, caller: caller, follows: follows)
        case .presenceUnsubscribe(let users):
            do throws(ServiceError) {
                let users = try dispatcher.limits.presenceUsers(users.userIds)
                return .done(CommandOutcome(reply: Codec.ok(id: command.id, Empty()),
                                            unsubscribe: users.map { .presence($0) }))
            } catch {
                return .done(.error(id: command.id, error.body))
            }
        default:
            return .task(command)
        }
    }

    /// Submits a chat-log change returned by `start`; `reply` gets the outcome
    /// on the store's thread once it is durable (its events already published,
    /// carrying `span`).
    public func submit(_ change: LogChange, id: Int, caller: Caller, span: TraceContext,
                       reply: @escaping @Sendable (CommandOutcome) -> Void) {
        log.submit(change, id: id, caller: caller, span: span, reply: reply)
    }

    /// `chat.typing`: broadcasts an ephemeral indicator, at most one per
    /// `typingIntervalMs` per (user, device, chat). A chat the session does not
    /// follow goes to the dispatcher, which asks the store why (`not_found`,
    /// `forbidden`, or a membership the session has not heard of yet).
    private mutating func typingIndicator(_ args: TypingArgs, _ command: Command, span: TraceContext, caller: Caller,
                                          follows: (ChatID) -> Bool) -> Start {
        let id = command.id
        let chat: ChatID
        do throws(ServiceError) {
            chat = try dispatcher.limits.id(args.chatId, field: "chat_id")
        } catch {
            return .done(.error(id: id, error.body))
        }
        guard follows(chat) else { return .task(command) }
        let key = TypingThrottle.Key(user: caller.userId, device: caller.deviceId, chat: chat)
        guard typing.admit(key, now: clock()) else {
            return .done(CommandOutcome(reply: Codec.ok(id: id, TypingResult(throttled: true))))
        }
        dispatcher.publishTyping(chat, caller, span: span)
        return .done(CommandOutcome(reply: Codec.ok(id: id, TypingResult(throttled: false))))
    }

    /// The error reply (and the close, for a flooding client) of a command
    /// over its rate limits; nil when it may run.
    private mutating func rateLimitRejection(_ command: Command, _ caller: Caller) -> CommandOutcome? {
        guard limiter != nil else { return nil }
        let rateClass: RateClass
        let retryAfterMs: Int64
        let close: Bool
        switch limiter!.admit(command.op, sessionId: caller.sessionId, now: clock()) {
        case .admit: return nil
        case .reject(let limiting, let wait): (rateClass, retryAfterMs, close) = (limiting, wait, false)
        case .close(let limiting, let wait): (rateClass, retryAfterMs, close) = (limiting, wait, true)
        }
        Self.rateLimitedCounters[rateClass]?.increment()
        let what: String
        switch rateClass {
        case .commands: what = "commands"
        case .messages: what = "messages"
        case .typing: what = "typing indicators"
        case .proxy: what = "proxy requests"
        case .ping: what = "pings"
        }
        let body = ErrorBody(.rateLimited, "too many \(what); retry in \(retryAfterMs) ms",
                             retryAfterMs: Int(clamping: retryAfterMs))
        if close {
            logger.notice("closing a session that kept exceeding its rate limits", metadata: [
                "session": .string(caller.sessionId), "user": .string(caller.userId), "class": .string(rateClass.rawValue)])
        }
        return .error(id: command.id, body, close: close ? .rateLimitExceeded : nil)
    }

    /// `social_rate_limited_total{class}`: commands rejected by the bucket of a class. Made once.
    static let rateLimitedCounters: [RateClass: Counter] = Dictionary(uniqueKeysWithValues: RateClass.allCases.map {
        ($0, Counter(label: "social_rate_limited_total", dimensions: [("class", $0.rawValue)]))
    })
}
