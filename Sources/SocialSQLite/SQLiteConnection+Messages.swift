import SocialCore

/// Message and reaction rows. Called inside a transaction on the connection's
/// own thread (the writer, or a reader inside `read`).
extension SQLiteConnection {
    func message(_ chat: ChatID, _ seq: Seq) throws -> Message? {
        try with("SELECT \(SQLiteRows.messageColumns) FROM messages WHERE chat_id = ? AND seq = ?") {
            try $0.bind(chat, seq).first(SQLiteRows.message)
        }
    }

    func requireMessage(_ chat: ChatID, _ seq: Seq) throws -> Message {
        guard let message = try message(chat, seq) else { throw StoreError.notFound("no message \(chat)/\(seq)") }
        return message
    }

    func message(_ chat: ChatID, sender: UserID, clientMsgId: String) throws -> Message? {
        try with("""
            SELECT \(SQLiteRows.messageColumns) FROM messages
            WHERE chat_id = ? AND sender = ? AND client_msg_id = ?
            """) { try $0.bind(chat, sender, clientMsgId).first(SQLiteRows.message) }
    }

    func insert(_ m: Message) throws {
        try with("""
            INSERT INTO messages (\(SQLiteRows.messageColumns))
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) {
            try $0.bind(m.chatId, m.seq, m.updatedSeq, m.sender, m.senderKind.rawValue, m.kind, m.text, m.clientMsgId,
                        m.replyTo, try SQLiteRows.json(m.attachments), try SQLiteRows.json(m.data),
                        try SQLiteRows.json(m.system), m.createdAt, m.editedAt, m.deleted,
                        try SQLiteRows.json(m.reactions)).run()
        }
    }

    /// Writes the mutable state of `m`: what edit, delete and react change.
    func update(_ m: Message) throws {
        try with("""
            UPDATE messages SET updated_seq = ?, text = ?, attachments = ?, data = ?, edited_at = ?, deleted = ?,
                reactions = ?
            WHERE chat_id = ? AND seq = ?
            """) {
            try $0.bind(m.updatedSeq, m.text, try SQLiteRows.json(m.attachments), try SQLiteRows.json(m.data),
                        m.editedAt, m.deleted, try SQLiteRows.json(m.reactions), m.chatId, m.seq).run()
        }
    }

    /// Messages with `after < seq < before`: the last `limit` of them when
    /// `fromEnd`, else the first `limit`; ascending either way.
    func history(_ chat: ChatID, after: Seq, before: Seq, limit: Int, fromEnd: Bool) throws -> [Message] {
        if fromEnd {
            return try with("""
                SELECT \(SQLiteRows.messageColumns) FROM messages
                WHERE chat_id = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?
                """) { try $0.bind(chat, after, before, limit).rows(SQLiteRows.message) }.reversed()
        }
        return try with("""
            SELECT \(SQLiteRows.messageColumns) FROM messages
            WHERE chat_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?
            """) { try $0.bind(chat, after, before, limit).rows(SQLiteRows.message) }
    }

    func changes(_ chat: ChatID, after: Seq, limit: Int) throws -> [Message] {
        try with("""
            SELECT \(SQLiteRows.messageColumns) FROM messages
            WHERE chat_id = ? AND updated_seq > ? ORDER BY updated_seq LIMIT ?
            """) { try $0.bind(chat, after, limit).rows(SQLiteRows.message) }
    }

    /// Messages after `member.readSeq` that count as unread for the member:
    /// a range scan of the primary key from the read marker.
    func unread(_ member: Member) throws -> Int {
        try with("""
            SELECT count(*) FROM messages
            WHERE chat_id = ? AND seq > ? AND sender <> ? AND deleted = 0 AND sender_kind <> 'system'
            """) { try $0.bind(member.chatId, member.readSeq, member.userId).first { Int($0.int64(0)) } } ?? 0
    }

    /// Adds or removes one reaction row; true when a row was added or removed.
    func setReaction(_ chat: ChatID, _ seq: Seq, user: UserID, emoji: String, add: Bool) throws -> Bool {
        let sql = add
            ? "INSERT OR IGNORE INTO reactions (chat_id, seq, user_id, emoji) VALUES (?, ?, ?, ?)"
            : "DELETE FROM reactions WHERE chat_id = ? AND seq = ? AND user_id = ? AND emoji = ?"
        try with(sql) { try $0.bind(chat, seq, user, emoji).run() }
        return changedRows == 1
    }

    func reactions(of user: UserID, in chat: ChatID, seq: Seq) throws -> [String] {
        try with("SELECT emoji FROM reactions WHERE chat_id = ? AND seq = ? AND user_id = ? ORDER BY emoji") {
            try $0.bind(chat, seq, user).rows { $0.string(0) }
        }
    }
}
