import SocialProtocol

/// What a store offers the log rules inside one transaction of its writer:
/// reads of the state the rules check, and the writes a change makes.
///
/// A store whose writes are transactional (SQLite, memory) conforms and runs
/// `LogRules.apply` as is; a store without transactions (MongoDB's
/// compare-and-set log) checks with the same rules in its own way.
///
/// Threads: used only inside the transaction, on the store's writer.
public protocol LogTransaction {
    func chatSeq(_ chat: ChatID) throws -> Seq?
    func member(_ chat: ChatID, _ user: UserID) throws -> Member?
    func message(_ chat: ChatID, seq: Seq) throws -> Message?
    func message(_ chat: ChatID, sender: UserID, clientMsgId: String) throws -> Message?
    /// Takes the chat's next seq.
    func nextSeq(_ chat: ChatID) throws -> Seq
    func insert(_ message: Message) throws
    /// Writes the mutable state of a message: what edit, delete and react change.
    func update(_ message: Message) throws
    /// Adds or removes one reaction; true when something changed.
    func setReaction(_ chat: ChatID, seq: Seq, user: UserID, emoji: String, add: Bool) throws -> Bool
    func setReadSeq(_ chat: ChatID, user: UserID, seq: Seq) throws
    /// `member`'s unread count: messages after the read marker, from others, neither deleted nor system messages.
    func unread(_ member: Member) throws -> Int
}

/// The rules of a chat-log change, checked against the chat's state at the
/// moment the change is applied. Written once, used by every store.
public enum LogRules {
    /// Checks and applies `change` inside `tx`. Throws before it writes
    /// anything when a rule fails (`forbidden`, `not_found`, `conflict`,
    /// `invalid_args`), so the store's rollback has nothing to undo but a
    /// failed write.
    public static func apply(_ change: LogChange, in tx: some LogTransaction) throws -> LogEffect {
        switch change {
        case .send(let new):
            try checkSender(new, in: tx)
            if let clientMsgId = new.clientMsgId,
               let original = try tx.message(new.chatId, sender: new.sender, clientMsgId: clientMsgId) {
                return .sent(AppendResult(message: original, duplicate: true))
            }
            let message = Message(new, seq: try tx.nextSeq(new.chatId))
            try tx.insert(message)
            return .sent(AppendResult(message: message, duplicate: false))

        case .edit(let chat, let seq, let user, let text, let data, let now):
            _ = try requireMember(chat, user, in: tx)
            var message = try requireMessage(chat, seq, in: tx)
            try checkEdit(message, by: user, text: text, data: data)
            message.text = text
            if let data { message.data = data }
            message.editedAt = now
            message.updatedSeq = try tx.nextSeq(chat)
            try tx.update(message)
            return .changed(message)

        case .delete(let chat, let seq, let user, let now):
            let member = try requireMember(chat, user, in: tx)
            var message = try requireMessage(chat, seq, in: tx)
            try checkDelete(message, by: member)
            message.deleted = true
            message.text = nil
            message.attachments = []
            message.data = nil
            message.editedAt = now
            message.updatedSeq = try tx.nextSeq(chat)
            try tx.update(message)
            return .changed(message)

        case .react(let chat, let seq, let user, let emoji, let add):
            _ = try requireMember(chat, user, in: tx)
            var message = try requireMessage(chat, seq, in: tx)
            guard !message.deleted else { throw StoreError.conflict("message \(chat)/\(seq) is deleted") }
            guard try tx.setReaction(chat, seq: seq, user: user, emoji: emoji, add: add) else { return .unchanged(message) }
            let count = (message.reactions[emoji] ?? 0) + (add ? 1 : -1)
            message.reactions[emoji] = count > 0 ? count : nil
            message.updatedSeq = try tx.nextSeq(chat)
            try tx.update(message)
            return .changed(message)

        case .read(let chat, let user, let seq):
            var member = try requireMember(chat, user, in: tx)
            let position = try tx.chatSeq(chat) ?? 0
            let before = member.readSeq
            let marker = max(before, min(seq, position))
            if marker != before {
                try tx.setReadSeq(chat, user: user, seq: marker)
                member.readSeq = marker
            }
            return .read(ReadMarker(before: before, after: marker, unread: try tx.unread(member)))
        }
    }

    /// A person or bot must be a member of the chat; the system needs the chat
    /// to exist. A `reply_to` must name a message of the chat.
    public static func checkSender(_ new: NewMessage, in tx: some LogTransaction) throws {
        if new.senderKind == .system {
            guard try tx.chatSeq(new.chatId) != nil else { throw ServiceError.notFound("no chat \(new.chatId)") }
        } else {
            _ = try requireMember(new.chatId, new.sender, in: tx)
        }
        if let replyTo = new.replyTo, try tx.message(new.chatId, seq: replyTo) == nil {
            throw ServiceError.invalidArgs("reply_to", "no message \(replyTo) in chat \(new.chatId)")
        }
    }

    /// `user`'s membership of `chat`. A missing chat is `not_found`; a chat the
    /// user is not a member of is `forbidden` (only members read or write).
    public static func requireMember(_ chat: ChatID, _ user: UserID, in tx: some LogTransaction) throws -> Member {
        if let member = try tx.member(chat, user) { return member }
        guard try tx.chatSeq(chat) != nil else { throw ServiceError.notFound("no chat \(chat)") }
        throw ServiceError.forbidden("not a member of chat \(chat)")
    }

    /// Message `seq` of `chat`; `not_found` when there is none.
    public static func requireMessage(_ chat: ChatID, _ seq: Seq, in tx: some LogTransaction) throws -> Message {
        guard let message = try tx.message(chat, seq: seq) else {
            throw ServiceError.notFound("no message \(seq) in chat \(chat)")
        }
        return message
    }

    /// Only the author edits a live, non-system message, and the result keeps
    /// some content; a workout card keeps its `workout_id`.
    public static func checkEdit(_ original: Message, by user: UserID, text: String, data: JSONValue?) throws {
        guard !original.isSystem else { throw ServiceError.forbidden("system messages cannot be edited") }
        guard original.sender == user else { throw ServiceError.forbidden("only the author edits a message") }
        guard !original.deleted else { throw ServiceError.conflict("message \(original.seq) is deleted") }
        guard !text.isBlank || !original.attachments.isEmpty || (data ?? original.data) != nil else {
            throw ServiceError.invalidArgs("text", "required unless the message has attachments or data")
        }
        if original.kind == ChatLimits.workoutKind, let data { try ChatLimits.checkWorkout(data) }
    }

    /// The author, or a group's admin or owner, deletes a live, non-system message.
    /// (Only groups have admins: in a direct chat both users are plain members.)
    public static func checkDelete(_ original: Message, by member: Member) throws {
        guard !original.isSystem else { throw ServiceError.forbidden("system messages cannot be deleted") }
        guard original.sender == member.userId || member.role >= .admin else {
            throw ServiceError.forbidden("only the author or a group admin deletes a message")
        }
        guard !original.deleted else { throw ServiceError.conflict("message \(original.seq) is already deleted") }
    }
}

extension Message {
    /// A new message as stored at `seq`.
    public init(_ new: NewMessage, seq: Seq) {
        self.init(chatId: new.chatId, seq: seq, updatedSeq: seq, sender: new.sender, senderKind: new.senderKind,
                  kind: new.kind, text: new.text, clientMsgId: new.clientMsgId, replyTo: new.replyTo,
                  attachments: new.attachments, data: new.data, system: nil, createdAt: new.createdAt, editedAt: nil,
                  deleted: false, reactions: [:])
    }
}

extension LogRules {
    /// The wire error code a failed change answers with: a rule's own
    /// (`forbidden`, `not_found`, `conflict`, `invalid_args`...) or a store
    /// error's (`not_found`, `conflict`, `unavailable`); nil for anything else.
    /// Lets code outside SocialCore (store tests) tell refusals apart.
    public static func errorCode(of error: any Error) -> ErrorCode? {
        switch error {
        case let refused as ServiceError: return refused.body.code
        case let failed as StoreError: return failed.isNotFound ? .notFound : failed.isConflict ? .conflict : .unavailable
        default: return nil
        }
    }
}
