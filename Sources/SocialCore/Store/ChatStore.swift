import SocialProtocol

/// A group or membership change, applied atomically with the system message
/// that records it in the chat (which takes the chat's next seq).
public enum MembershipChange: Sendable, Equatable {
    /// `user` becomes a member with `role`, their read marker at the join's
    /// system message (the history before counts as read); removes any
    /// invitation. Conflict if already a member.
    case join(user: UserID, role: Role)
    /// Records an invitation. Conflict if `user` is already a member or invited.
    case invite(user: UserID, by: UserID)
    /// `user` leaves. NotFound if not a member.
    case leave(user: UserID)
    /// `user` is removed by `by`. NotFound if not a member.
    case kick(user: UserID, by: UserID)
    /// Sets `user`'s role. NotFound if not a member.
    case setRole(user: UserID, role: Role, by: UserID)
    /// `to` becomes owner, the previous owner becomes admin. NotFound if `to` is not a member.
    case transfer(to: UserID, by: UserID)
    /// Sets the group title.
    case rename(title: String, by: UserID)
}

/// The result of appending a message.
public struct AppendResult: Sendable, Equatable {
    public var message: Message
    /// True when a message with the same `(chat, sender, clientMsgId)` was already
    /// stored: `message` is that original, and nothing was written.
    public var duplicate: Bool

    public init(message: Message, duplicate: Bool) {
        self.message = message
        self.duplicate = duplicate
    }
}

/// Where chats, memberships and messages live. Every implementation passes the
/// same contract suite (`StoreContract` in SocialTesting).
///
/// Rules every implementation keeps:
/// - Each chat has one counter. Every change to the chat's log (a new message,
///   an edit, a delete, a reaction change, a membership change) takes the next
///   value, atomically with the change, so a chat's seqs are gap-free.
/// - A change sets the message's `updatedSeq` to the seq it took, so
///   `changes(after:)` returns each changed message once, in its latest state.
/// - A call that returns has made its change durable (as the implementation
///   defines durable: fsync'd for the embedded store, write concern for MongoDB).
/// - Methods may be called from any thread or task, concurrently.
public protocol ChatStore: Sendable {
    /// Creates a group chat: the chat, its owner's membership and a `created`
    /// system message at seq 1.
    func createGroup(id: ChatID, title: String, isOpen: Bool, owner: UserID, now: Int64) async throws -> (Chat, Message)

    /// Returns the direct chat of two users, creating it (with id `newId`) when
    /// there is none. Both users become members. Idempotent under concurrency:
    /// every caller gets the same chat. `created` is true for the caller that made it.
    func openDirect(newId: ChatID, between a: UserID, and b: UserID, now: Int64) async throws -> (chat: Chat, created: Bool)

    func chat(_ id: ChatID) async throws -> Chat?
    func member(_ chat: ChatID, _ user: UserID) async throws -> Member?
    func members(_ chat: ChatID) async throws -> [Member]
    /// Every chat `user` is a member of, with unread counts, ordered by chat id.
    func memberships(of user: UserID) async throws -> [Membership]
    func invitations(of user: UserID) async throws -> [Invitation]
    func invitation(_ chat: ChatID, _ user: UserID) async throws -> Invitation?

    /// Applies a membership or group change and appends its system message,
    /// then calls `completion` with that message once it is durable. Changes
    /// and their completions keep the order `submit(_:completion:)` keeps, in
    /// one queue with the chat-log changes: a completion that publishes the
    /// change's events publishes them in the chat's commit order.
    func submit(_ change: MembershipChange, to chat: ChatID, now: Int64,
                completion: @escaping @Sendable (Result<Message, any Error>) -> Void)

    /// Checks and applies a change of a chat's log (a message, an edit, a
    /// delete, a reaction) or a read marker, with the rules of `LogRules`
    /// checked atomically with the change, and calls `completion` once the
    /// change is durable, or with why it was refused (`ServiceError` bodies
    /// for rule failures, `StoreError` otherwise).
    ///
    /// Order: changes submitted from one thread are applied in submission
    /// order (the embedded store's writer queue gives them consecutive seqs of
    /// a chat), and their completions run in that order, on the store's own
    /// thread (the memory store: on the caller's, before `submit` returns).
    /// A completion must not block: it publishes events and hands the reply on.
    func submit(_ change: LogChange, completion: @escaping @Sendable (Result<LogEffect, any Error>) -> Void)

    func message(_ chat: ChatID, seq: Seq) async throws -> Message?
    /// At most `limit` messages in ascending `seq` order: those just before
    /// `before`, just after `after`, or the latest when neither is given.
    func history(_ chat: ChatID, before: Seq?, after: Seq?, limit: Int) async throws -> [Message]
    /// Messages whose `updatedSeq > after`, ordered by `updatedSeq`, at most `limit`.
    func changes(_ chat: ChatID, after: Seq, limit: Int) async throws -> [Message]
    /// The emoji `user` has reacted with on each of `seqs` (absent: none).
    func reactions(of user: UserID, in chat: ChatID, seqs: [Seq]) async throws -> [Seq: [String]]

    /// `user`'s unread count in `chat`: messages after the read marker, from
    /// others, neither deleted nor system messages.
    func unread(_ chat: ChatID, user: UserID) async throws -> Int

    /// Whether the backend answers (for `/readyz`).
    func ping() async -> Bool
}

extension ChatStore {
    /// Applies a membership or group change, awaited: its system message once durable.
    public func apply(_ change: MembershipChange, to chat: ChatID, now: Int64) async throws -> Message {
        try await withCheckedThrowingContinuation { continuation in
            submit(change, to: chat, now: now) { continuation.resume(with: $0) }
        }
    }

    /// `submit`, awaited: the change's effect once it is durable.
    public func commit(_ change: LogChange) async throws -> LogEffect {
        try await withCheckedThrowingContinuation { continuation in
            submit(change) { continuation.resume(with: $0) }
        }
    }

    /// Stores a message (`.send`): the sender must be a member of the chat (or the system).
    public func append(_ message: NewMessage) async throws -> AppendResult {
        guard case .sent(let result) = try await commit(.send(message)) else { throw StoreError.unavailable("unexpected effect") }
        return result
    }
}
