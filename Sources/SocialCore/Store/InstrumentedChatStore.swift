import Metrics
import SocialProtocol

/// A `ChatStore` that times every call of the store it wraps
/// (`social_store_duration_seconds{op}`) and counts failures
/// (`social_store_errors_total{op}`). The metric handles are made once, when
/// the wrapper is made, not per call.
public struct InstrumentedChatStore: ChatStore {
    let base: any ChatStore
    private let metrics: StoreMetrics

    public init(_ base: any ChatStore) {
        self.base = base
        metrics = StoreMetrics()
    }

    private func timed<T>(_ op: StoreMetrics.Op, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let value = try await body()
            metrics.duration[op]!.recordNanoseconds(start.nanosecondsSince)
            return value
        } catch {
            metrics.errors[op]!.increment()
            throw error
        }
    }

    public func createGroup(id: ChatID, title: String, isOpen: Bool, owner: UserID, now: Int64) async throws -> (Chat, Message) {
        try await timed(.createGroup) { try await base.createGroup(id: id, title: title, isOpen: isOpen, owner: owner, now: now) }
    }
    public func openDirect(newId: ChatID, between a: UserID, and b: UserID, now: Int64) async throws -> (chat: Chat, created: Bool) {
        try await timed(.openDirect) { try await base.openDirect(newId: newId, between: a, and: b, now: now) }
    }
    public func chat(_ id: ChatID) async throws -> Chat? { try await timed(.chat) { try await base.chat(id) } }
    public func member(_ chat: ChatID, _ user: UserID) async throws -> Member? {
        try await timed(.member) { try await base.member(chat, user) }
    }
    public func members(_ chat: ChatID) async throws -> [Member] { try await timed(.members) { try await base.members(chat) } }
    public func memberships(of user: UserID) async throws -> [Membership] {
        try await timed(.memberships) { try await base.memberships(of: user) }
    }
    public func invitations(of user: UserID) async throws -> [Invitation] {
        try await timed(.invitations) { try await base.invitations(of: user) }
    }
    public func invitation(_ chat: ChatID, _ user: UserID) async throws -> Invitation? {
        try await timed(.invitation) { try await base.invitation(chat, user) }
    }

    public func submit(_ change: MembershipChange, to chat: ChatID, now: Int64,
                       completion: @escaping @Sendable (Result<Message, any Error>) -> Void) {
        let start = ContinuousClock.now
        base.submit(change, to: chat, now: now) { [metrics] result in
            metrics.record(.apply, start, failed: (try? result.get()) == nil)
            completion(result)
        }
    }

    public func submit(_ change: LogChange, completion: @escaping @Sendable (Result<LogEffect, any Error>) -> Void) {
        let start = ContinuousClock.now
        let op = StoreMetrics.Op(change)
        base.submit(change) { [metrics] result in
            switch result {
            case .success(let effect):
                metrics.record(op, start, failed: false)
                if case .sent(let sent) = effect, !sent.duplicate { metrics.messagesStored.increment() }
            case .failure:
                metrics.record(op, start, failed: true)
            }
            completion(result)
        }
    }

    public func message(_ chat: ChatID, seq: Seq) async throws -> Message? {
        try await timed(.message) { try await base.message(chat, seq: seq) }
    }
    public func history(_ chat: ChatID, before: Seq?, after: Seq?, limit: Int) async throws -> [Message] {
        try await timed(.history) { try await base.history(chat, before: before, after: after, limit: limit) }
    }
    public func changes(_ chat: ChatID, after: Seq, limit: Int) async throws -> [Message] {
        try await timed(.changes) { try await base.changes(chat, after: after, limit: limit) }
    }
    public func reactions(of user: UserID, in chat: ChatID, seqs: [Seq]) async throws -> [Seq: [String]] {
        try await timed(.reactions) { try await base.reactions(of: user, in: chat, seqs: seqs) }
    }
    public func unread(_ chat: ChatID, user: UserID) async throws -> Int {
        try await timed(.unread) { try await base.unread(chat, user: user) }
    }
    public func ping() async -> Bool { await base.ping() }
}

/// The store's metric handles, one per op, made once.
private final class StoreMetrics: Sendable {
    enum Op: String, CaseIterable, Sendable {
        case createGroup = "create_group", openDirect = "open_direct", chat, member, members, memberships
        case invitations, invitation, apply, append, edit, delete, react, markRead = "mark_read"
        case message, history, changes, reactions, unread

        init(_ change: LogChange) {
            switch change {
            case .send: self = .append
            case .edit: self = .edit
            case .delete: self = .delete
            case .react: self = .react
            case .read: self = .markRead
            }
        }
    }

    let duration: [Op: Timer]
    let errors: [Op: Counter]
    /// `social_messages_stored_total`: messages stored (retries with a known `client_msg_id` not counted).
    let messagesStored = Counter(label: "social_messages_stored_total")

    init() {
        duration = Dictionary(uniqueKeysWithValues: Op.allCases.map {
            ($0, Timer(label: "social_store_duration_seconds", dimensions: [("op", $0.rawValue)]))
        })
        errors = Dictionary(uniqueKeysWithValues: Op.allCases.map {
            ($0, Counter(label: "social_store_errors_total", dimensions: [("op", $0.rawValue)]))
        })
    }

    func record(_ op: Op, _ start: ContinuousClock.Instant, failed: Bool) {
        if failed { errors[op]!.increment() } else { duration[op]!.recordNanoseconds(start.nanosecondsSince) }
    }
}
