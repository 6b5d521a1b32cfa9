/// A message on the wire. `seq` identifies it in its chat; `updated_seq` is
/// the chat position of its latest change (the position a chat event moves to).
public struct WireMessage: Codable, Sendable, Equatable {
    public var chatId: String
    public var seq: Int64
    public var updatedSeq: Int64
    public var sender: String
    /// `user`, `bot` or `system`.
    public var senderKind: String
    public var kind: String
    public var text: String?
    public var clientMsgId: String?
    public var replyTo: Int64?
    public var attachments: [WireAttachment]?
    public var data: JSONValue?
    public var system: WireSystemEvent?
    /// Server timestamp, milliseconds since 1970.
    public var ts: Int64
    public var editedTs: Int64?
    public var deleted: Bool
    public var reactions: [String: Int]

    public init(chatId: String, seq: Int64, updatedSeq: Int64, sender: String, senderKind: String, kind: String,
                text: String?, clientMsgId: String?, replyTo: Int64?, attachments: [WireAttachment]?, data: JSONValue?,
                system: WireSystemEvent?, ts: Int64, editedTs: Int64?, deleted: Bool, reactions: [String: Int]) {
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
        self.ts = ts
        self.editedTs = editedTs
        self.deleted = deleted
        self.reactions = reactions
    }

    enum CodingKeys: String, CodingKey {
        case chatId = "chat_id", seq, updatedSeq = "updated_seq", sender, senderKind = "sender_kind", kind, text
        case clientMsgId = "client_msg_id", replyTo = "reply_to", attachments, data, system, ts
        case editedTs = "edited_ts", deleted, reactions
    }
}

public struct WireAttachment: Codable, Sendable, Equatable {
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

/// What a `system` message records.
public struct WireSystemEvent: Codable, Sendable, Equatable {
    /// `created`, `joined`, `invited`, `left`, `kicked`, `role_changed`, `transferred`, `renamed`.
    public var action: String
    public var userId: String?
    public var by: String?
    public var role: String?
    public var title: String?

    public init(action: String, userId: String? = nil, by: String? = nil, role: String? = nil, title: String? = nil) {
        self.action = action
        self.userId = userId
        self.by = by
        self.role = role
        self.title = title
    }

    enum CodingKeys: String, CodingKey { case action, userId = "user_id", by, role, title }
}
