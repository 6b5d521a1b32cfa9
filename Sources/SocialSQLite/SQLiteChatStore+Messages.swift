import SocialCore
import SocialProtocol

/// The chat log (messages, edits, deletes, reactions, read markers) and its
/// reads. A change runs on the writer thread inside a group commit, checked
/// by `LogRules` in its own savepoint; reads run on a reader thread.
extension SQLiteChatStore {
    /// Checks and applies `change` in the writer's next group commit;
    /// `completion` runs on the writer thread once the batch is committed, in
    /// submission order. A refused change (`LogRules`' errors) reaches it
    /// unchanged and wrote nothing; SQLite failures are `StoreError`s.
    public func submit(_ change: LogChange, completion: @escaping @Sendable (Result<LogEffect, any Error>) -> Void) {
        writer.enqueue({ db in try LogRules.apply(change, in: db) }, completion: completion)
    }

    public func message(_ chat: ChatID, seq: Seq) async throws -> Message? {
        try await readers.read { db in try db.message(chat, seq: seq) }
    }

    public func history(_ chat: ChatID, before: Seq?, after: Seq?, limit: Int) async throws -> [Message] {
        try await readers.read { db in
            let page = limit <= 0 ? [] : try db.history(chat, after: after ?? .min, before: before ?? .max,
                                                         limit: limit, fromEnd: after == nil)
            if page.isEmpty, try !db.chatExists(chat) { throw StoreError.notFound("no chat \(chat)") }
            return page
        }
    }

    public func changes(_ chat: ChatID, after: Seq, limit: Int) async throws -> [Message] {
        try await readers.read { db in
            let page = limit <= 0 ? [] : try db.changes(chat, after: after, limit: limit)
            if page.isEmpty, try !db.chatExists(chat) { throw StoreError.notFound("no chat \(chat)") }
            return page
        }
    }

    public func reactions(of user: UserID, in chat: ChatID, seqs: [Seq]) async throws -> [Seq: [String]] {
        try await readers.read { db in
            guard try db.chatExists(chat) else { throw StoreError.notFound("no chat \(chat)") }
            var result: [Seq: [String]] = [:]
            for seq in Set(seqs) {
                let emoji = try db.reactions(of: user, in: chat, seq: seq)
                if !emoji.isEmpty { result[seq] = emoji }
            }
            return result
        }
    }

    public func unread(_ chat: ChatID, user: UserID) async throws -> Int {
        try await readers.read { db in
            guard try db.chatExists(chat) else { throw StoreError.notFound("no chat \(chat)") }
            return try db.unread(try db.requireMember(chat, user))
        }
    }
}
