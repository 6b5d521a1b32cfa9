import Metrics
import SocialProtocol

/// A `ChatStore` that times every call of the store it wraps
/// (`social_store_duration_seconds{op}`) and counts failures
/// (`social_store_errors_total{op}`).
public struct InstrumentedChatStore: ChatStore {
    let base: any ChatStore

    public init(_ base: any ChatStore) { self.base = base }

    private func timed<T>(_ op: String, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let value = try await body()
            Timer(label: "social_store_duration_seconds", dimensions: [("op", op)]).recordNanoseconds(start.nanosecondsSince)
            return value
        } catch {
            Counter(label: "social_store_errors_total", dimensions: [("op", op)]).increment()
            throw error
        }
    }

    public func createGroup(id: ChatID, title: String, isOpen: Bool, owner: UserID, now: Int64) async throws -> (Chat, Message) {
        try await timed("create_group") { try await base.createGroup(id: id, title: title, isOpen: isOpen, owner: owner, now: now) }
    }
    public func openDirect(newId: ChatID, between a: UserID, and b: UserID, now: Int64) async throws -> (chat: Chat, created: Bool) {
        try await timed("open_direct") { try await base.openDirect(newId: newId, between: a, and: b, now: now) }
    }
    public func chat(_ id: ChatID) async throws -> Chat? { try await timed("chat") { try await base.chat(id) } }
    public func member(_ chat: ChatID, _ user: UserID) async throws -> Member? {
        try await timed("member") { try await base.member(chat, user) }
    }
    public func members(_ chat: ChatID) async throws -> [Member] { try await timed("members") { try await base.members(chat) } }
    public func memberships(of user: UserID) async throws -> [Membership] {
        try await timed("memberships") { try await base.memberships(of: user) }
    }
    public func invitations(of user: UserID) async throws -> [Invitation] {
        try await timed("invitations") { try await base.invitations(of: user) }
    }
    public func invitation(_ chat: ChatID, _ user: UserID) async throws -> Invitation? {
        try await timed("invitation") { try await base.invitation(chat, user) }
    }
    public func apply(_ change: MembershipChange, to chat: ChatID, now: Int64) async throws -> Message {
        try await timed("apply") { try await base.apply(change, to: chat, now: now) }
    }
    public func append(_ message: NewMessage) async throws -> AppendResult {
        let result = try await timed("append") { try await base.append(message) }
        if !result.duplicate { Counter(label: "social_messages_stored_total").increment() }
        return result
    }
    public func edit(_ chat: ChatID, seq: Seq, text: String, data: JSONValue?, now: Int64) async throws -> Message {
        try await timed("edit") { try await base.edit(chat, seq: seq, text: text, data: data, now: now) }
    }
    public func delete(_ chat: ChatID, seq: Seq, now: Int64) async throws -> Message {
        try await timed("delete") { try await base.delete(chat, seq: seq, now: now) }
    }
    public func react(_ chat: ChatID, seq: Seq, user: UserID, emoji: String, add: Bool) async throws -> Message? {
        try await timed("react") { try await base.react(chat, seq: seq, user: user, emoji: emoji, add: add) }
    }
    public func message(_ chat: ChatID, seq: Seq) async throws -> Message? {
        try await timed("message") { try await base.message(chat, seq: seq) }
    }
    public func history(_ chat: ChatID, before: Seq?, after: Seq?, limit: Int) async throws -> [Message] {
        try await timed("history") { try await base.history(chat, before: before, after: after, limit: limit) }
    }
    public func changes(_ chat: ChatID, after: Seq, limit: Int) async throws -> [Message] {
        try await timed("changes") { try await base.changes(chat, after: after, limit: limit) }
    }
    public func reactions(of user: UserID, in chat: ChatID, seqs: [Seq]) async throws -> [Seq: [String]] {
        try await timed("reactions") { try await base.reactions(of: user, in: chat, seqs: seqs) }
    }
    public func markRead(_ chat: ChatID, user: UserID, seq: Seq) async throws -> Seq {
        try await timed("mark_read") { try await base.markRead(chat, user: user, seq: seq) }
    }
    public func unread(_ chat: ChatID, user: UserID) async throws -> Int {
        try await timed("unread") { try await base.unread(chat, user: user) }
    }
    public func ping() async -> Bool { await base.ping() }
}
