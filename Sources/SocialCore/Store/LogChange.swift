import SocialProtocol

/// A change of a chat's log (and read markers), as the hot path hands it to
/// the store: checked and applied in one step on the store's writer, so the
/// rules hold at the moment the change is made (a user kicked while their send
/// waited in the queue gets `forbidden`, and nothing is stored).
///
/// The args were validated before (`ChatLimits`); what needs the chat's state
/// (membership, authorship, a deleted message) is checked by `LogRules`
/// inside the store's transaction.
public enum LogChange: Sendable, Equatable {
    /// Stores a message with the chat's next seq, or returns the original when
    /// `(chat, sender, clientMsgId)` is already stored. A person or bot sender
    /// must be a member; a `.system` sender (the backend API) needs the chat to exist.
    case send(NewMessage)
    /// The author replaces the text (and data) of their message.
    case edit(ChatID, seq: Seq, by: UserID, text: String, data: JSONValue?, now: Int64)
    /// The author, or a group's admin or owner, tombstones a message.
    case delete(ChatID, seq: Seq, by: UserID, now: Int64)
    /// A member adds or removes their reaction; no seq when nothing changes.
    case react(ChatID, seq: Seq, user: UserID, emoji: String, add: Bool)
    /// A member raises their read marker (never lowers it, never past the chat's position). Takes no seq.
    case read(ChatID, user: UserID, seq: Seq)

    /// The chat the change is about.
    public var chat: ChatID {
        switch self {
        case .send(let message): message.chatId
        case .edit(let chat, _, _, _, _, _), .delete(let chat, _, _, _), .react(let chat, _, _, _, _), .read(let chat, _, _):
            chat
        }
    }
}

/// What a `LogChange` did.
public enum LogEffect: Sendable, Equatable {
    /// A send: the stored message, or the original of a retried `client_msg_id`.
    case sent(AppendResult)
    /// An edit, a delete or a reaction change: the message in its new state (it took a seq).
    case changed(Message)
    /// A reaction that was already there (add) or absent (remove): the message as it is.
    case unchanged(Message)
    /// A read marker: where it was, where it is now, and the unread count after it.
    case read(ReadMarker)
}

/// A member's read marker around a `chat.read`.
public struct ReadMarker: Sendable, Equatable {
    public var before: Seq
    public var after: Seq
    public var unread: Int

    public init(before: Seq, after: Seq, unread: Int) {
        self.before = before
        self.after = after
        self.unread = unread
    }
}
