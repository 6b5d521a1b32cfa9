// Server pushes of the chat family. Chat-log events carry the message in its
// new state; their position is `message.updated_seq`.

/// An event recorded in a chat's log: its position is `message.updated_seq`.
public protocol ChatLogEvent {
    var message: WireMessage { get }
}

/// `message.new`, `message.edited`, `message.deleted`.
public struct MessageEvent: Codable, Sendable, Equatable, ChatLogEvent {
    public var message: WireMessage
    public init(message: WireMessage) { self.message = message }
}

/// `reaction`
public struct ReactionEvent: Codable, Sendable, Equatable, ChatLogEvent {
    public var message: WireMessage
    public var userId: String
    public var emoji: String
    public var added: Bool
    public init(message: WireMessage, userId: String, emoji: String, added: Bool) {
        self.message = message
        self.userId = userId
        self.emoji = emoji
        self.added = added
    }
    enum CodingKeys: String, CodingKey { case message, userId = "user_id", emoji, added }
}

/// `member` (joined, invited, left, kicked, role_changed, transferred) and
/// `group.updated` (renamed): the system message that records the change.
public struct SystemChangeEvent: Codable, Sendable, Equatable, ChatLogEvent {
    public var message: WireMessage
    public init(message: WireMessage) { self.message = message }
}

/// `typing` (ephemeral, never stored)
public struct TypingEvent: Codable, Sendable, Equatable {
    public var chatId: String
    public var userId: String
    public var deviceId: String
    public init(chatId: String, userId: String, deviceId: String) {
        self.chatId = chatId
        self.userId = userId
        self.deviceId = deviceId
    }
    enum CodingKeys: String, CodingKey { case chatId = "chat_id", userId = "user_id", deviceId = "device_id" }
}

/// `read`: a member moved their read marker.
public struct ReadEvent: Codable, Sendable, Equatable {
    public var chatId: String
    public var userId: String
    public var seq: Int64
    public init(chatId: String, userId: String, seq: Int64) {
        self.chatId = chatId
        self.userId = userId
        self.seq = seq
    }
    enum CodingKeys: String, CodingKey { case chatId = "chat_id", userId = "user_id", seq }
}

/// `chat.added`: the user became a member of a chat (to the user's own devices).
public struct ChatAddedEvent: Codable, Sendable, Equatable {
    public var chat: WireChat
    public init(chat: WireChat) { self.chat = chat }
}

/// `chat.removed`: the user left or was removed from a chat (to the user's own devices).
public struct ChatRemovedEvent: Codable, Sendable, Equatable {
    public var chatId: String
    /// `left` or `kicked`.
    public var reason: String
    public init(chatId: String, reason: String) { self.chatId = chatId; self.reason = reason }
    enum CodingKeys: String, CodingKey { case chatId = "chat_id", reason }
}

/// `invitation`: the user was invited to a group.
public struct InvitationEvent: Codable, Sendable, Equatable {
    public var invitation: WireInvitation
    public init(invitation: WireInvitation) { self.invitation = invitation }
}

/// `resync`: this connection may have missed events (the bus was interrupted): call `sync`.
public struct ResyncEvent: Codable, Sendable, Equatable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}
