import SocialCore
import SocialProtocol

/// The chat-log changes as awaited calls, for store tests: each submits one
/// `LogChange` (`commit`) and unwraps the effect it is expected to have.
extension ChatStore {
    /// `.edit` by `user` (the author): the message in its new state.
    public func edit(_ chat: ChatID, seq: Seq, by user: UserID, text: String, data: JSONValue?, now: Int64) async throws -> Message {
        try await changed(.edit(chat, seq: seq, by: user, text: text, data: data, now: now))
    }

    /// `.delete` by `user` (the author or a group admin): the tombstone.
    public func delete(_ chat: ChatID, seq: Seq, by user: UserID, now: Int64) async throws -> Message {
        try await changed(.delete(chat, seq: seq, by: user, now: now))
    }

    /// `.react`: the message in its new state, or nil when nothing changed.
    public func react(_ chat: ChatID, seq: Seq, user: UserID, emoji: String, add: Bool) async throws -> Message? {
        switch try await commit(.react(chat, seq: seq, user: user, emoji: emoji, add: add)) {
        case .changed(let message): return message
        case .unchanged: return nil
        case let other: throw StoreError.unavailable("react: unexpected effect \(other)")
        }
    }

    /// `.read`: the marker after it.
    public func markRead(_ chat: ChatID, user: UserID, seq: Seq) async throws -> Seq {
        guard case .read(let marker) = try await commit(.read(chat, user: user, seq: seq)) else {
            throw StoreError.unavailable("read: unexpected effect")
        }
        return marker.after
    }

    private func changed(_ change: LogChange) async throws -> Message {
        guard case .changed(let message) = try await commit(change) else {
            throw StoreError.unavailable("\(change): unexpected effect")
        }
        return message
    }
}
