import Foundation
import SocialCore

/// A change claimed at one seq of a chat, kept in the chat document's
/// `pending` field until all its writes are applied.
struct PendingChange: Equatable {
    var seq: Seq
    var writes: [FencedWrite]

    var bson: BSON { ["seq": .int64(seq), "w": .array(writes.map(\.bson))] }

    init(seq: Seq, writes: [FencedWrite]) {
        self.seq = seq
        self.writes = writes
    }

    init(_ bson: BSON) throws {
        guard let doc = bson.document, let writes = doc["w"]?.array else {
            throw StoreError.unavailable("mongo: malformed pending change \(bson)")
        }
        self.init(seq: try doc.int64("seq"), writes: try writes.map(FencedWrite.init))
    }
}

/// Gap-free per-chat sequences without transactions, while many gateway
/// nodes write to one chat.
///
/// The chat document is the chat's counter and its lock-free log head. A
/// change to the chat:
/// 1. loads the chat document at `seq = H`; if it still holds a `pending`
///    change (another node's, in flight or left by a crash), applies it first
///    (roll forward), so the chat's state is exactly its state at `H`;
/// 2. checks the change against that state (conflict, notFound, duplicate
///    client id) and plans its writes for seq `H + 1`. A change that fails its
///    checks, or changes nothing, takes no seq;
/// 3. claims `H + 1` with one compare-and-set on the chat document:
///    `{_id, seq: H}` → `{seq: H + 1, pending: change, ...chat fields}`. If
///    another change claimed `H + 1` first, nothing was written: back to 1;
/// 4. applies the writes (each fenced, so repeating them is harmless) and
///    clears `pending`.
///
/// The claim and the change's description are one atomic document write, so
/// every seq that is taken is completed, by its node or by the next reader or
/// writer of the chat: there is no gap, even when a node dies between claiming
/// and applying. The cost of that crash is visibility, not a hole: until the
/// next call loads the chat, `chat.seq` is one ahead of the applied state, and
/// the dying call's caller saw an error for a change that is then completed
/// (a retried send is answered from its client id).
///
/// Threads: a value used inside one job, on the worker thread that owns `db`.
struct ChatLog {
    let db: MongoConnection
    /// How long a change keeps retrying lost claims before giving up.
    var contentionTimeout: TimeInterval = 15

    /// What a change does once checked against the chat's state.
    enum Plan<T> {
        /// Nothing to write (a no-op, a duplicate): no seq is taken.
        case unchanged(T)
        /// Claim the next seq with these writes and chat fields, then return the result.
        case change(writes: [FencedWrite], chatFields: BSONDocument, result: T)
    }

    /// Loads chat `id`, completing its pending change first. Nil when there is no such chat.
    func load(_ id: ChatID) throws -> Chat? {
        guard let doc = try db.chats.findOne(["_id": .string(id)]) else { return nil }
        return try rollForward(doc)
    }

    /// Like `load`, but a missing chat is `notFound`.
    func require(_ id: ChatID) throws -> Chat {
        guard let chat = try load(id) else { throw StoreError.notFound("no chat \(id)") }
        return chat
    }

    /// The chat in `doc`, after completing the change it still holds, if any.
    func rollForward(_ doc: BSONDocument) throws -> Chat {
        let chat = try ChatDocuments.chat(doc)
        if let pending = doc["pending"] { try complete(chat.id, try PendingChange(pending)) }
        return chat
    }

    /// Runs `plan` against the chat's current state and the seq it would take,
    /// claims that seq and applies the writes, retrying when another change
    /// claims the seq first.
    func commit<T>(_ id: ChatID, _ plan: (Chat, Seq) throws -> Plan<T>) throws -> T {
        let deadline = Date().addingTimeInterval(contentionTimeout)
        var attempt = 0
        while true {
            let chat = try require(id)
            switch try plan(chat, chat.seq + 1) {
            case .unchanged(let result):
                return result
            case .change(let writes, let chatFields, let result):
                let change = PendingChange(seq: chat.seq + 1, writes: writes)
                if try claim(chat, change, chatFields: chatFields) {
                    try complete(id, change)
                    return result
                }
            }
            attempt += 1
            guard Date() < deadline else {
                throw StoreError.unavailable("mongo: chat \(id) is too busy: \(attempt) attempts lost their claim")
            }
            // Another change claimed the seq: let it finish before trying again.
            usleep(UInt32.random(in: 0...UInt32(min(attempt, 10) * 200)))
        }
    }

    /// The compare-and-set of step 3: true when this change took `change.seq`.
    func claim(_ chat: Chat, _ change: PendingChange, chatFields: BSONDocument = [:]) throws -> Bool {
        let fields = chatFields.merging(["seq": .int64(change.seq), "pending": change.bson])
        let result = try db.chats.updateOne(["_id": .string(chat.id), "seq": .int64(chat.seq)], ["$set": .document(fields)])
        return result.matched == 1
    }

    /// Applies every write of `change`, then clears it from the chat (unless a later change already replaced it).
    func complete(_ id: ChatID, _ change: PendingChange) throws {
        for write in change.writes { try write.apply(at: change.seq, on: db) }
        try db.chats.updateOne(["_id": .string(id), "seq": .int64(change.seq)], ["$unset": ["pending": ""]])
    }
}
