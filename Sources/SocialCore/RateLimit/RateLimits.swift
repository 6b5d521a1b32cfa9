import SocialProtocol

/// The buckets a command can draw from.
public enum RateClass: String, Sendable, Hashable, CaseIterable {
    /// Every command but `ping`.
    case commands
    /// Changes to messages: `chat.send`, `chat.edit`, `chat.delete`, `chat.react`.
    case messages
    /// `chat.typing`.
    case typing
    /// `proxy.request`, calls to the backend services.
    case proxy
    /// `ping`, counted by this bucket only: a client's keepalive never waits
    /// for its other commands, and a ping flood still cannot hold the node.
    case ping
}

/// The command rate limits of every session, and the policy for a client
/// that keeps going past them. Each limit is per session, except a bot's
/// message limit, which its sessions on one node share.
public struct RateLimits: Sendable, Equatable {
    /// Every command but `ping` (nil: unlimited).
    public var commands: RateLimit? = RateLimit(perSecond: 200, burst: 2000)
    /// Message changes of a person's session.
    public var messages: RateLimit? = RateLimit(perSecond: 100, burst: 1000)
    /// Message changes of a bot account, shared by its sessions on this node.
    public var botMessages: RateLimit? = RateLimit(perSecond: 30, burst: 60)
    /// Typing indicators (`chat.typing`); broadcasts are throttled further per chat.
    public var typing: RateLimit? = RateLimit(perSecond: 20, burst: 50)
    /// REST proxy calls.
    public var proxy: RateLimit? = RateLimit(perSecond: 20, burst: 50)
    /// `ping`s. A client pings every few seconds at most; this leaves room
    /// for one that measures its latency often, and none for a flood.
    public var ping: RateLimit? = RateLimit(perSecond: 20, burst: 100)
    /// Rejected commands within `floodWindowMs` that close the connection
    /// with 4004 (0: never close).
    public var floodRejections = 20
    /// The window `floodRejections` are counted in.
    public var floodWindowMs: Int64 = 10_000

    /// The defaults above.
    public init() {}

    /// No limit at all (what unit tests and benchmarks that measure the
    /// store want).
    public static var off: RateLimits {
        var limits = RateLimits()
        limits.commands = nil
        limits.messages = nil
        limits.botMessages = nil
        limits.typing = nil
        limits.proxy = nil
        limits.ping = nil
        return limits
    }

    /// Whether any limit is set.
    public var isEnabled: Bool {
        commands != nil || messages != nil || botMessages != nil || typing != nil || proxy != nil || ping != nil
    }

    /// The class of each op beyond `commands`, by op name (ops that other
    /// modules add, like `proxy.request`, are named here too).
    public static let opClasses: [String: RateClass] = [
        Op.chatSend: .messages, Op.chatEdit: .messages, Op.chatDelete: .messages, Op.chatReact: .messages,
        Op.chatTyping: .typing,
        "proxy.request": .proxy,
        Op.ping: .ping,
    ]

    /// Ops that only their class's bucket counts, not `commands`.
    public static let ownBucketOps: Set<String> = [Op.ping]

    /// The limit of `rateClass` for a caller of `kind`.
    public func limit(_ rateClass: RateClass, for kind: Caller.Kind) -> RateLimit? {
        switch rateClass {
        case .commands: return commands
        case .messages: return kind == .bot ? botMessages : messages
        case .typing: return typing
        case .proxy: return proxy
        case .ping: return ping
        }
    }
}
