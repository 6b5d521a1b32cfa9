import SocialCore
import SocialProtocol
import Synchronization

/// A `ChatStore` that forwards to another one until told to fail: then every
/// call throws the given error (every `submit` completes with it at once, on
/// the caller's thread), as a backend outage or a bug would.
///
/// Threads: any; the failure to inject is kept under a `Mutex`.
public final class FailingChatStore: ChatStore {
    private let base: any ChatStore
    private let failure = Mutex<(any Error)?>(nil)

    public init(_ base: any ChatStore) { self.base = base }

    /// Makes every following call throw `error`, or (nil) forward again.
    public func fail(with error: (any Error)?) {
        failure.withLock { $0 = error }
    }

    private func check() throws {
        if let error = failure.withLock({ $0 }) { throw error }
    }

    public func createGroup(id: ChatID, title: String, isOpen: Bool, owner: UserID, now: Int64) async throws -> (Chat, Message) {
        try check(); return try await base.createGroup(id: id, title: title, isOpen: isOpen, owner: owner, now: now)
    }
    public func openDirect(newId: ChatID, between a: UserID, and b: UserID, now: Int64) async throws -> (chat: Chat, created: Bool) {
        try check(); return try await base.openDirect(newId: newId, between: a, and: b, now: now)
    }
    public func chat(_ id: ChatID) async throws -> Chat? { try check(); return try await base.chat(id) }
    public func member(_ chat: ChatID, _ user: UserID) async throws -> Member? {
        try check(); return try await base.member(chat, user)
    }
    public func members(_ chat: ChatID) async throws -> [Member] { try check(); return try await base.members(chat) }
    public func memberships(of user: UserID) async throws -> [Membership] {
        try check(); return try await base.memberships(of: user)
    }
    public func invitations(of user: UserID) async throws -> [Invitation] {
        try check(); return try await base.invitations(of: user)
    }
    public func invitation(_ chat: ChatID, _ user: UserID) async throws -> Invitation? {
        try check(); return try await base.invitation(chat, user)
    }
    public func submit(_ change: MembershipChange, to chat: ChatID, now: Int64,
                       completion: @escaping @Sendable (Result<Message, any Error>) -> Void) {
        do { try check() } catch { return completion(.failure(error)) }
        base.submit(change, to: chat, now: now, completion: completion)
    }
    public func submit(_ change: LogChange, completion: @escaping @Sendable (Result<LogEffect, any Error>) -> Void) {
        do { try check() } catch { return completion(.failure(error)) }
        base.submit(change, completion: completion)
    }
    public func message(_ chat: ChatID, seq: Seq) async throws -> Message? {
        try check(); return try await base.message(chat, seq: seq)
    }
    public func history(_ chat: ChatID, before: Seq?, after: Seq?, limit: Int) async throws -> [Message] {
        try check(); return try await base.history(chat, before: before, after: after, limit: limit)
    }
    public func changes(_ chat: ChatID, after: Seq, limit: Int) async throws -> [Message] {
        try check(); return try await base.changes(chat, after: after, limit: limit)
    }
    public func reactions(of user: UserID, in chat: ChatID, seqs: [Seq]) async throws -> [Seq: [String]] {
        try check(); return try await base.reactions(of: user, in: chat, seqs: seqs)
    }
    public func unread(_ chat: ChatID, user: UserID) async throws -> Int {
        try check(); return try await base.unread(chat, user: user)
    }
    public func ping() async -> Bool {
        failure.withLock { $0 == nil } ? await base.ping() : false
    }
}
