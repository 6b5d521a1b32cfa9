// Args and results of the `chat.*`, `chats.list` and `sync` ops.

public struct OpenDirectArgs: Codable, Sendable, Equatable {
    public var userId: String
    public init(userId: String) { self.userId = userId }
    enum CodingKeys: String, CodingKey { case userId = "user_id" }
}

public struct OpenDirectResult: Codable, Sendable, Equatable {
    public var chat: WireChat
    public var created: Bool
    public init(chat: WireChat, created: Bool) { self.chat = chat; self.created = created }
}

public struct ChatsListResult: Codable, Sendable, Equatable {
    public var chats: [WireChat]
    public init(chats: [WireChat]) { self.chats = chats }
}

public struct SendArgs: Codable, Sendable, Equatable {
    public var chatId: String
    public var text: String?
    /// Default `text`. `workout` cards carry `data.workout_id`.
    public var kind: String?
    public var clientMsgId: String?
    public var replyTo: Int64?
    public var attachments: [WireAttachment]?
    public var data: JSONValue?

    public init(chatId: String, text: String?, kind: String? = nil, clientMsgId: String? = nil, replyTo: Int64? = nil,
                attachments: [WireAttachment]? = nil, data: JSONValue? = nil) {
        self.chatId = chatId
        self.text = text
        self.kind = kind
        self.clientMsgId = clientMsgId
        self.replyTo = replyTo
        self.attachments = attachments
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case chatId = "chat_id", text, kind, clientMsgId = "client_msg_id", replyTo = "reply_to", attachments, data
    }
}

public struct SendResult: Codable, Sendable, Equatable {
    public var message: WireMessage
    /// True when this `client_msg_id` was already stored: `message` is the original.
    public var duplicate: Bool
    public init(message: WireMessage, duplicate: Bool) { self.message = message; self.duplicate = duplicate }
}

public struct EditArgs: Codable, Sendable, Equatable {
    public var chatId: String
    public var seq: Int64
    public var text: String
    public var data: JSONValue?
    public init(chatId: String, seq: Int64, text: String, data: JSONValue? = nil) {
        self.chatId = chatId
        self.seq = seq
        self.text = text
        self.data = data
    }
    enum CodingKeys: String, CodingKey { case chatId = "chat_id", seq, text, data }
}

/// Args of `chat.delete` and `chat.read`: a chat and a seq.
public struct ChatSeqArgs: Codable, Sendable, Equatable {
    public var chatId: String
    public var seq: Int64
    public init(chatId: String, seq: Int64) { self.chatId = chatId; self.seq = seq }
    enum CodingKeys: String, CodingKey { case chatId = "chat_id", seq }
}

/// Result of `chat.edit` and `chat.delete`.
public struct MessageResult: Codable, Sendable, Equatable {
    public var message: WireMessage
    public init(message: WireMessage) { self.message = message }
}

public struct ReactArgs: Codable, Sendable, Equatable {
    public var chatId: String
    public var seq: Int64
    public var emoji: String
    /// True removes the caller's reaction. Default false (adds it).
    public var remove: Bool?
    public init(chatId: String, seq: Int64, emoji: String, remove: Bool? = nil) {
        self.chatId = chatId
        self.seq = seq
        self.emoji = emoji
        self.remove = remove
    }
    enum CodingKeys: String, CodingKey { case chatId = "chat_id", seq, emoji, remove }
}

public struct ReactResult: Codable, Sendable, Equatable {
    public var message: WireMessage
    /// False when the reaction was already there (add) or absent (remove).
    public var changed: Bool
    public init(message: WireMessage, changed: Bool) { self.message = message; self.changed = changed }
}

public struct HistoryArgs: Codable, Sendable, Equatable {
    public var chatId: String
    public var before: Int64?
    public var after: Int64?
    /// Default 50, at most 100.
    public var limit: Int?
    public init(chatId: String, before: Int64? = nil, after: Int64? = nil, limit: Int? = nil) {
        self.chatId = chatId
        self.before = before
        self.after = after
        self.limit = limit
    }
    enum CodingKeys: String, CodingKey { case chatId = "chat_id", before, after, limit }
}

public struct HistoryResult: Codable, Sendable, Equatable {
    /// Ascending by `seq`.
    public var messages: [WireMessage]
    /// The caller's own reactions, by message seq (as a string key).
    public var myReactions: [String: [String]]
    /// More messages exist beyond this page in the direction asked.
    public var more: Bool
    public init(messages: [WireMessage], myReactions: [String: [String]], more: Bool) {
        self.messages = messages
        self.myReactions = myReactions
        self.more = more
    }
    enum CodingKeys: String, CodingKey { case messages, myReactions = "my_reactions", more }
}

public struct ReadResult: Codable, Sendable, Equatable {
    public var chatId: String
    public var readSeq: Int64
    public var unread: Int
    public init(chatId: String, readSeq: Int64, unread: Int) {
        self.chatId = chatId
        self.readSeq = readSeq
        self.unread = unread
    }
    enum CodingKeys: String, CodingKey { case chatId = "chat_id", readSeq = "read_seq", unread }
}

public struct TypingArgs: Codable, Sendable, Equatable {
    public var chatId: String
    public init(chatId: String) { self.chatId = chatId }
    enum CodingKeys: String, CodingKey { case chatId = "chat_id" }
}

public struct TypingResult: Codable, Sendable, Equatable {
    /// True when this indicator was not broadcast because the previous one was too recent.
    public var throttled: Bool
    public init(throttled: Bool) { self.throttled = throttled }
}
