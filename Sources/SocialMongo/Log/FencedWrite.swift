import SocialCore

/// One document write of a chat change, fenced by the seq the change took.
///
/// Applying a write is idempotent and never undoes a later change: the
/// filter only matches while the document's fence field (`useq` for messages,
/// `v` for members and invitations) is below the change's seq, and the write
/// raises it to that seq. So a write may be applied by its own node, by a node
/// helping it along, or again after a crash, in any order, with one effect.
struct FencedWrite: Equatable {
    enum Target: String {
        case message = "messages"
        case member = "members"
        case invitation = "invitations"

        var fence: String { self == .message ? "useq" : "v" }
    }

    var target: Target
    /// Equality filter naming the document: `{chat, seq}` or `{chat, user}`.
    var key: BSONDocument
    var set: BSONDocument
    var unset: [String] = []
    /// Insert the document when missing. A duplicate key then means it exists
    /// with a fence at or past this seq: the write was already applied.
    var upsert: Bool

    // MARK: The writes changes are made of

    /// A new message (its `useq` is its seq).
    static func insert(_ message: Message) throws -> FencedWrite {
        var fields = try MessageDocuments.document(message)
        fields["chat"] = nil
        fields["seq"] = nil
        return FencedWrite(target: .message, key: messageKey(message.chatId, message.seq), set: fields, upsert: true)
    }

    /// Changes fields of an existing message.
    static func update(_ chat: ChatID, seq: Seq, set: BSONDocument, unset: [String] = []) -> FencedWrite {
        FencedWrite(target: .message, key: messageKey(chat, seq), set: set, unset: unset, upsert: false)
    }

    /// Makes `user` a member with `fields` (creating the document on a first join).
    static func join(_ chat: ChatID, _ user: UserID, _ fields: BSONDocument) -> FencedWrite {
        FencedWrite(target: .member, key: userKey(chat, user), set: fields.merging(["on": true]), upsert: true)
    }

    /// Changes fields of a current member; `on: false` removes them.
    static func member(_ chat: ChatID, _ user: UserID, _ fields: BSONDocument) -> FencedWrite {
        FencedWrite(target: .member, key: userKey(chat, user), set: fields, upsert: false)
    }

    static func invite(_ chat: ChatID, _ user: UserID, _ fields: BSONDocument) -> FencedWrite {
        FencedWrite(target: .invitation, key: userKey(chat, user), set: fields.merging(["on": true]), upsert: true)
    }

    static func uninvite(_ chat: ChatID, _ user: UserID) -> FencedWrite {
        FencedWrite(target: .invitation, key: userKey(chat, user), set: ["on": false], upsert: false)
    }

    private static func messageKey(_ chat: ChatID, _ seq: Seq) -> BSONDocument { ["chat": .string(chat), "seq": .int64(seq)] }
    private static func userKey(_ chat: ChatID, _ user: UserID) -> BSONDocument { ["chat": .string(chat), "user": .string(user)] }

    // MARK: Applying

    /// Applies the write for the change at `seq`.
    /// Threads: the worker thread that owns `db`.
    func apply(at seq: Seq, on db: MongoConnection) throws {
        let filter = key.merging([target.fence: ["$lt": .int64(seq)]])
        var update: BSONDocument = ["$set": .document(set.merging([target.fence: .int64(seq)]))]
        if !unset.isEmpty { update["$unset"] = .document(BSONDocument(unset.map { (key: $0, value: BSON.string("")) })) }
        do {
            try db.collection(target.rawValue).updateOne(filter, update, upsert: upsert)
        } catch let failure as MongoFailure where failure.isDuplicateKey && upsert {
            return      // the document exists with a fence at or past `seq`: applied before
        }
    }

    // MARK: Stored form (inside the chat's `pending` change)

    var bson: BSON {
        ["t": .string(target.rawValue), "k": .document(key), "s": .document(set),
         "u": .array(unset.map(BSON.string)), "up": .bool(upsert)]
    }

    init(target: Target, key: BSONDocument, set: BSONDocument, unset: [String] = [], upsert: Bool) {
        self.target = target
        self.key = key
        self.set = set
        self.unset = unset
        self.upsert = upsert
    }

    init(_ bson: BSON) throws {
        guard let doc = bson.document, let target = Target(rawValue: try doc.string("t")),
              let key = doc["k"]?.document, let set = doc["s"]?.document else {
            throw StoreError.unavailable("mongo: malformed pending write \(bson)")
        }
        self.init(target: target, key: key, set: set, unset: (doc["u"]?.array ?? []).compactMap(\.string),
                  upsert: try doc.bool("up"))
    }
}
