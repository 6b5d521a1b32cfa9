import SocialProtocol

/// A bot account: a non-person sender that a backend creates through the API
/// and that connects over the WebSocket with its own secret. Its id is also
/// its user id in chats (members, senders).
public struct BotAccount: Sendable, Equatable {
    /// `bot_` and random characters; the bot's user id in chats.
    public var id: String
    /// A display name, 1-64 characters.
    public var name: String
    /// What the bot may do over the WebSocket (`BotScope`).
    public var scopes: [String]
    /// Lowercase hex SHA-256 of the secret; the secret itself is never stored.
    public var secretHash: String
    public var disabled: Bool
    /// Milliseconds since 1970.
    public var createdAt: Int64
    /// Milliseconds since 1970 of the last change (rotation, disable).
    public var updatedAt: Int64
    /// The API client (token `sub`) that created the bot.
    public var createdBy: String

    public init(id: String, name: String, scopes: [String], secretHash: String, disabled: Bool = false,
                createdAt: Int64, updatedAt: Int64, createdBy: String) {
        self.id = id
        self.name = name
        self.scopes = scopes
        self.secretHash = secretHash
        self.disabled = disabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.createdBy = createdBy
    }
}

/// The scopes a bot session may hold, and the ops each allows.
public enum BotScope {
    /// `chat.send` into chats the bot is a member of.
    public static let send = "chat:send"
    /// `chat.react`.
    public static let react = "chat:react"
    /// `chat.history`, `sync`, `chats.list`, `group.info`.
    public static let read = "chat:read"

    public static let all = [send, react, read]

    /// Ops every bot may use whatever its scopes: `ping`, and joining or
    /// leaving a group it was invited to (how a bot becomes a member).
    static let always: Set<String> = [Op.ping, Op.groupJoin, Op.groupLeave]

    static let opsByScope: [String: Set<String>] = [
        send: [Op.chatSend],
        react: [Op.chatReact],
        read: [Op.chatHistory, Op.sync, Op.chatsList, Op.groupInfo],
    ]

    /// Whether a bot with `scopes` may run `op`.
    public static func allows(_ op: String, scopes: [String]) -> Bool {
        always.contains(op) || scopes.contains { opsByScope[$0]?.contains(op) == true }
    }
}
