import SocialProtocol

public enum SenderKind: String, Sendable, Codable {
    case user
    case bot
    case system
}

/// An attachment: a file in object storage elsewhere, referred to by URL.
public struct Attachment: Sendable, Equatable, Codable {
    public var url: String
    public var mime: String?
    public var name: String?
    public var size: Int64?
    public var meta: JSONValue?

    public init(url: String, mime: String? = nil, name: String? = nil, size: Int64? = nil, meta: JSONValue? = nil) {
        self.url = url
        self.mime = mime
        self.name = name
        self.size = size
        self.meta = meta
    }
}

/// What a system message records: a membership or group change.
public struct SystemEvent: Sendable, Equatable, Codable {
    public enum Action: String, Sendable, Codable {
        case created, joined, invited, left, kicked, roleChanged = "role_changed", transferred, renamed
    }
    public var action: Action
    /// The user the change is about (joined, invited, left, kicked, role_changed, transferred: the new owner).
    public var userId: UserID?
    /// Who made the change, when not the user themself.
    public var by: UserID?
    public var role: Role?
    public var title: String?

    public init(action: Action, userId: UserID? = nil, by: UserID? = nil, role: Role? = nil, title: String? = nil) {
        self.action = action
        self.userId = userId
        self.by = by
        self.role = role
        self.title = title
    }
}

/// A message as stored, with its current state (edits, tombstone, reaction counts).
public struct Message: Sendable, Equatable {
    public var chatId: ChatID
    /// Assigned when the message was stored; never changes. Identifies the message in its chat.
    public var seq: Seq
    /// The seq of the latest change to this message (equal to `seq` until edited, deleted or reacted to).
    public var updatedSeq: Seq
    public var sender: UserID
    public var senderKind: SenderKind
    /// `text`, `workout`, `system`, or another client-defined kind.
    public var kind: String
    public var text: String?
    public var clientMsgId: String?
    public var replyTo: Seq?
    public var attachments: [Attachment]
    /// Kind-specific fields, e.g. `{"workout_id": "..."}` for a workout card.
    public var data: JSONValue?
    public var system: SystemEvent?
    /// Milliseconds since 1970, set by the server.
    public var createdAt: Int64
    public var editedAt: Int64?
    public var deleted: Bool
    /// Emoji to the number of users who reacted with it. Empty emoji are absent.
    public var reactions: [String: Int]

    public init(chatId: ChatID, seq: Seq, updatedSeq: Seq, sender: UserID, senderKind: SenderKind, kind: String,
                text: String?, clientMsgId: String?, replyTo: Seq?, attachments: [Attachment], data: JSONValue?,
                system: SystemEvent?, createdAt: Int64, editedAt: Int64?, deleted: Bool, reactions: [String: Int]) {
        self.chatId = chatId
        self.seq = seq
        self.updatedSeq = updatedSeq
        self.sender = sender
        self.senderKind = senderKind
        self.kind = kind
        self.text = text
        self.clientMsgId = clientMsgId
        self.replyTo = replyTo
        self.attachments = attachments
        self.data = data
        self.system = system
        self.createdAt = createdAt
        self.editedAt = editedAt
        self.deleted = deleted
        self.reactions = reactions
    }
}

/// A message to store; the store assigns `seq`.
public struct NewMessage: Sendable, Equatable {
    public var chatId: ChatID
    public var sender: UserID
    public var senderKind: SenderKind
    public var kind: String
    public var text: String?
    public var clientMsgId: String?
    public var replyTo: Seq?
    public var attachments: [Attachment]
    public var data: JSONValue?
    public var createdAt: Int64

    public init(chatId: ChatID, sender: UserID, senderKind: SenderKind = .user, kind: String = "text", text: String?,
                clientMsgId: String? = nil, replyTo: Seq? = nil, attachments: [Attachment] = [], data: JSONValue? = nil,
                createdAt: Int64) {
        self.chatId = chatId
        self.sender = sender
        self.senderKind = senderKind
        self.kind = kind
        self.text = text
        self.clientMsgId = clientMsgId
        self.replyTo = replyTo
        self.attachments = attachments
        self.data = data
        self.createdAt = createdAt
    }
}
