import SocialCore
import SocialProtocol

/// Messages, reactions and read markers. Writes run on the writer thread
/// inside a group commit; each checks before it changes anything, and its
/// savepoint undoes what it wrote when it throws. Reads run on a reader thread.
extension SQLiteChatStore {
    public func append(_ new: NewMessage) async throws -> AppendResult {
        try await writer.submit { db in
            if let clientMsgId = new.clientMsgId,
               let original = try db.message(new.chatId, sender: new.sender, clientMsgId: clientMsgId) {
                return AppendResult(message: original, duplicate: true)
            }
            let seq = try db.nextSeq(new.chatId)
            let message = Message(chatId: new.chatId, seq: seq, updatedSeq: seq, sender: new.sender,
                                  senderKind: new.senderKind, kind: new.kind, text: new.text,
                                  clientMsgId: new.clientMsgId, replyTo: new.replyTo, attachments: new.attachments,
                                  data: new.data, system: nil, createdAt: new.createdAt, editedAt: nil,
                                  deleted: false, reactions: [:])
            try db.insert(message)
            return AppendResult(message: message, duplicate: false)
        }
    }

    public func edit(_ chat: ChatID, seq: Seq, text: String, data: JSONValue?, now: Int64) async throws -> Message {
        try await writer.submit { db in
            var message = try Self.liveMessage(chat, seq, db)
            message.text = text
            if let data { message.data = data }
            message.editedAt = now
            message.updatedSeq = try db.nextSeq(chat)
            try db.update(message)
            return message
        }
    }

    public func delete(_ chat: ChatID, seq: Seq, now: Int64) async throws -> Message {
        try await writer.submit { db in
            var message = try Self.liveMessage(chat, seq, db)
            message.deleted = true
            message.text = nil
            message.attachments = []
            message.data = nil
            message.editedAt = now
            message.updatedSeq = try db.nextSeq(chat)
            try db.update(message)
            return message
        }
    }

    public func react(_ chat: ChatID, seq: Seq, user: UserID, emoji: String, add: Bool) async throws -> Message? {
        try await writer.submit { db in
            var message = try Self.liveMessage(chat, seq, db)
            guard try db.setReaction(chat, seq, user: user, emoji: emoji, add: add) else { return nil }
            let count = (message.reactions[emoji] ?? 0) + (add ? 1 : -1)
            message.reactions[emoji] = count > 0 ? count : nil
            message.updatedSeq = try db.nextSeq(chat)
            try db.update(message)
            return message
        }
    }

    public func message(_ chat: ChatID, seq: Seq) async throws -> Message? {
        try await readers.read { db in try db.message(chat, seq) }
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

    public func markRead(_ chat: ChatID, user: UserID, seq: Seq) async throws -> Seq {
        try await writer.submit { db in
            let position = try db.requireChat(chat).seq
            let member = try db.requireMember(chat, user)
            let marker = max(member.readSeq, min(seq, position))
            if marker != member.readSeq { try db.setReadSeq(chat, user, marker) }
            return marker
        }
    }

    public func unread(_ chat: ChatID, user: UserID) async throws -> Int {
        try await readers.read { db in
            guard try db.chatExists(chat) else { throw StoreError.notFound("no chat \(chat)") }
            return try db.unread(try db.requireMember(chat, user))
        }
    }

    /// The message `seq` of `chat`; notFound when missing, conflict when deleted.
    private static func liveMessage(_ chat: ChatID, _ seq: Seq, _ db: SQLiteConnection) throws -> Message {
        let message = try db.requireMessage(chat, seq)
        guard !message.deleted else { throw StoreError.conflict("message \(chat)/\(seq) is deleted") }
        return message
    }
}
