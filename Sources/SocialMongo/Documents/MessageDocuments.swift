import SocialCore
import SocialProtocol

/// A message as stored: its state plus who reacted with what (the counts in
/// `message.reactions` are derived from `reactors`).
struct StoredMessage {
    struct Reaction: Equatable {
        var user: UserID
        var emoji: String
    }

    var message: Message
    var reactors: [Reaction]

    /// The emoji `user` reacted with, sorted.
    func emoji(of user: UserID) -> [String] { reactors.filter { $0.user == user }.map(\.emoji).sorted() }

    static func counts(_ reactors: [Reaction]) -> [String: Int] {
        reactors.reduce(into: [:]) { $0[$1.emoji, default: 0] += 1 }
    }
}

/// Messages as stored documents.
enum MessageDocuments {
    /// Every field of a new message (no reactions yet).
    static func document(_ m: Message) throws -> BSONDocument {
        var doc: BSONDocument = ["chat": .string(m.chatId), "seq": .int64(m.seq), "useq": .int64(m.updatedSeq),
                                 "sender": .string(m.sender), "sk": .string(m.senderKind.rawValue),
                                 "kind": .string(m.kind), "at": .int64(m.createdAt), "del": .bool(m.deleted),
                                 "rx": .array([])]
        doc.setOptional("text", m.text.map(BSON.string))
        doc.setOptional("cmid", m.clientMsgId.map(BSON.string))
        doc.setOptional("reply", m.replyTo.map(BSON.int64))
        if !m.attachments.isEmpty { doc["att"] = .array(try m.attachments.map(attachment)) }
        doc.setOptional("data", try StoredJSON.text(m.data))
        doc.setOptional("sys", m.system.map(system))
        doc.setOptional("edited", m.editedAt.map(BSON.int64))
        return doc
    }

    /// The fields of `m` that edits, deletes and reactions change, as a
    /// write of its whole mutable state: what to set, and the optional fields
    /// now absent, to unset. Reactions (`rx`, per user) are not among them.
    static func mutableFields(_ m: Message) throws -> (set: BSONDocument, unset: [String]) {
        let doc = try document(m)
        var set: BSONDocument = ["del": .bool(m.deleted)]
        var unset: [String] = []
        for key in ["text", "att", "data", "edited"] {
            if let value = doc[key] { set[key] = value } else { unset.append(key) }
        }
        return (set, unset)
    }

    static func stored(_ doc: BSONDocument) throws -> StoredMessage {
        let reactors = try (doc["rx"]?.array ?? []).map { item -> StoredMessage.Reaction in
            guard let pair = item.document else { throw doc.malformed("rx") }
            return StoredMessage.Reaction(user: try pair.string("u"), emoji: try pair.string("e"))
        }
        let message = Message(
            chatId: try doc.string("chat"), seq: try doc.int64("seq"), updatedSeq: try doc.int64("useq"),
            sender: try doc.string("sender"), senderKind: try doc.enumValue("sk", SenderKind.self),
            kind: try doc.string("kind"), text: doc.optionalString("text"), clientMsgId: doc.optionalString("cmid"),
            replyTo: doc.optionalInt64("reply"),
            attachments: try (doc["att"]?.array ?? []).map { try attachment($0, in: doc) },
            data: try StoredJSON.value(doc["data"]), system: try doc["sys"]?.document.map(system),
            createdAt: try doc.int64("at"), editedAt: doc.optionalInt64("edited"), deleted: try doc.bool("del"),
            reactions: StoredMessage.counts(reactors))
        return StoredMessage(message: message, reactors: reactors)
    }

    static func reactors(_ reactors: [StoredMessage.Reaction]) -> BSON {
        .array(reactors.map { ["u": .string($0.user), "e": .string($0.emoji)] })
    }

    private static func attachment(_ a: Attachment) throws -> BSON {
        var doc: BSONDocument = ["url": .string(a.url)]
        doc.setOptional("mime", a.mime.map(BSON.string))
        doc.setOptional("name", a.name.map(BSON.string))
        doc.setOptional("size", a.size.map(BSON.int64))
        doc.setOptional("meta", try StoredJSON.text(a.meta))
        return .document(doc)
    }

    private static func attachment(_ value: BSON, in message: BSONDocument) throws -> Attachment {
        guard let doc = value.document else { throw message.malformed("att") }
        return Attachment(url: try doc.string("url"), mime: doc.optionalString("mime"), name: doc.optionalString("name"),
                          size: doc.optionalInt64("size"), meta: try StoredJSON.value(doc["meta"]))
    }

    private static func system(_ event: SystemEvent) -> BSON {
        var doc: BSONDocument = ["action": .string(event.action.rawValue)]
        doc.setOptional("user", event.userId.map(BSON.string))
        doc.setOptional("by", event.by.map(BSON.string))
        doc.setOptional("role", event.role.map { .string($0.rawValue) })
        doc.setOptional("title", event.title.map(BSON.string))
        return .document(doc)
    }

    private static func system(_ doc: BSONDocument) throws -> SystemEvent {
        SystemEvent(action: try doc.enumValue("action", SystemEvent.Action.self), userId: doc.optionalString("user"),
                    by: doc.optionalString("by"), role: try doc["role"].map { _ in try doc.enumValue("role", Role.self) },
                    title: doc.optionalString("title"))
    }
}
