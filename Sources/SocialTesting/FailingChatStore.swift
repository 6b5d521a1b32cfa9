import Foundation
import SocialCore
import SocialProtocol

/// A `ChatStore` that forwards to another one until told to fail: then every
/// call throws the given error, as a backend outage or a bug would.
///
/// Thread-safe: `failure` is only touched under `lock`, which is why the
/// `@unchecked Sendable` is sound.
public final class FailingChatStore: ChatStore, @unchecked Sendable {
    private let base: any ChatStore
    private let lock = NSLock()
    private var failure: (any Error)?

    public init(_ base: any ChatStore) { self.base = base }

    /// Makes every following call throw `error`, or (nil) forward again.
    public func fail(with error: (any Error)?) {
        lock.withLock { failure = error }
    }

    private func check() throws {
        if let error = lock.withLock({ failure }) { throw error }
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
    public func apply(_ change: MembershipChange, to chat: ChatID, now: Int64) async throws -> Message {
        try check(); return try await base.apply(change, to: chat, now: now)
    }
    public func append(_ message: NewMessage) async throws -> AppendResult {
        try check(); return try await base.append(message)
    }
    public func edit(_ chat: ChatID, seq: Seq, text: String, data: JSONValue?, now: Int64) async throws -> Message {
        try check(); return try await base.edit(chat, seq: seq, text: text, data: data, now: now)
    }
    public func delete(_ chat: ChatID, seq: Seq, now: Int64) async throws -> Message {
        try check(); return try await base.delete(chat, seq: seq, now: now)
    }
    public func react(_ chat: ChatID, seq: Seq, user: UserID, emoji: String, add: Bool) async throws -> Message? {
        try check(); return try await base.react(chat, seq: seq, user: user, emoji: emoji, add: add)
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
    public func markRead(_ chat: ChatID, user: UserID, seq: Seq) async throws -> Seq {
        try check(); return try await base.markRead(chat, user: user, seq: seq)
    }
    public func unread(_ chat: ChatID, user: UserID) async throws -> Int {
        try check(); return try await base.unread(chat, user: user)
    }
    public func ping() async -> Bool {
        lock.withLock { failure == nil } ? await base.ping() : false
    }
}
