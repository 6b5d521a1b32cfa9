/// `sync` args: what the client already has.
public struct SyncArgs: Codable, Sendable, Equatable {
    public struct Position: Codable, Sendable, Equatable {
        public var chatId: String
        /// The client's position in the chat: the highest `updated_seq` it has applied.
        public var seq: Int64
        /// The read marker the client knows; omitted: unknown.
        public var readSeq: Int64?
        public init(chatId: String, seq: Int64, readSeq: Int64? = nil) {
            self.chatId = chatId
            self.seq = seq
            self.readSeq = readSeq
        }
        enum CodingKeys: String, CodingKey { case chatId = "chat_id", seq, readSeq = "read_seq" }
    }

    public var chats: [Position]
    /// Most changes returned in this call, over all chats. Default 200, at most 1000.
    public var limit: Int?
    /// The highest notification id the client has; absent: the reply has no `notifications`.
    public var notificationsAfter: Int64?
    public init(chats: [Position], limit: Int? = nil, notificationsAfter: Int64? = nil) {
        self.chats = chats
        self.limit = limit
        self.notificationsAfter = notificationsAfter
    }
    enum CodingKeys: String, CodingKey { case chats, limit, notificationsAfter = "notifications_after" }
}

public struct SyncResult: Codable, Sendable, Equatable {
    public struct ChatDelta: Codable, Sendable, Equatable {
        /// The chat's summary now (title, role, seq, read marker, unread).
        public var chat: WireChat
        /// Messages changed since the client's position, each once in its
        /// current state, ascending by `updated_seq`. Empty for chats new to the client.
        public var changes: [WireMessage]
        public var myReactions: [String: [String]]
        /// The client's new position in this chat once it has applied `changes`.
        public var position: Int64
        /// More changes wait in this chat: call `sync` again.
        public var more: Bool
        /// The client did not list this chat: it is new to it. Its history is read with `chat.history`.
        public var new: Bool

        public init(chat: WireChat, changes: [WireMessage], myReactions: [String: [String]], position: Int64,
                    more: Bool, new: Bool) {
            self.chat = chat
            self.changes = changes
            self.myReactions = myReactions
            self.position = position
            self.more = more
            self.new = new
        }
        enum CodingKeys: String, CodingKey { case chat, changes, myReactions = "my_reactions", position, more, new }
    }

    /// Chats with anything new for the client. Chats it is up to date on are absent.
    public var chats: [ChatDelta]
    /// Chats the client listed that the user is no longer a member of.
    public var removed: [String]
    /// Some chat has more changes: call `sync` again with the new positions.
    public var more: Bool
    /// Notifications created after `notifications_after`, when the client sent it.
    public var notifications: SyncNotifications?

    public init(chats: [ChatDelta], removed: [String], more: Bool, notifications: SyncNotifications? = nil) {
        self.chats = chats
        self.removed = removed
        self.more = more
        self.notifications = notifications
    }
}
