import SocialCore

/// Message and reaction rows. Called inside a transaction on the connection's
/// own thread (the writer, or a reader inside `read`).
extension SQLiteConnection {
    func message(_ chat: ChatID, seq: Seq) throws -> Message? {
        try with(.message) { try $0.bind(chat, seq).first(SQLiteRows.message) }
    }

    func message(_ chat: ChatID, sender: UserID, clientMsgId: String) throws -> Message? {
        try with(.messageByClientId) { try $0.bind(chat, sender, clientMsgId).first(SQLiteRows.message) }
    }

    func insert(_ m: Message) throws {
        try with(.insertMessage) {
            try $0.bind(m.chatId, m.seq, m.updatedSeq, m.sender, m.senderKind.rawValue, m.kind, m.text, m.clientMsgId,
                        m.replyTo, try SQLiteRows.json(m.attachments), try SQLiteRows.json(m.data),
                        try SQLiteRows.json(m.system), m.createdAt, m.editedAt, m.deleted,
                        try SQLiteRows.json(m.reactions)).run()
        }
    }

    /// Writes the mutable state of `m`: what edit, delete and react change.
    func update(_ m: Message) throws {
        try with(.updateMessage) {
            try $0.bind(m.updatedSeq, m.text, try SQLiteRows.json(m.attachments), try SQLiteRows.json(m.data),
                        m.editedAt, m.deleted, try SQLiteRows.json(m.reactions), m.chatId, m.seq).run()
        }
        guard changedRows == 1 else { throw StoreError.notFound("no message \(m.chatId)/\(m.seq)") }
    }

    /// Messages with `after < seq < before`: the last `limit` of them when
    /// `fromEnd`, else the first `limit`; ascending either way.
    func history(_ chat: ChatID, after: Seq, before: Seq, limit: Int, fromEnd: Bool) throws -> [Message] {
        if fromEnd {
            return try with(.historyFromEnd) { try $0.bind(chat, after, before, limit).rows(SQLiteRows.message) }.reversed()
        }
        return try with(.historyFromStart) { try $0.bind(chat, after, before, limit).rows(SQLiteRows.message) }
    }

    func changes(_ chat: ChatID, after: Seq, limit: Int) throws -> [Message] {
        try with(.changes) { try $0.bind(chat, after, limit).rows(SQLiteRows.message) }
    }

    /// Messages after `member.readSeq` that count as unread for the member:
    /// a range scan of the primary key from the read marker.
    func unread(_ member: Member) throws -> Int {
        try with(.unread) {
            try $0.bind(member.chatId, member.readSeq, member.userId).first { Int($0.int64(0)) }
        } ?? 0
    }

    /// Adds or removes one reaction row; true when a row was added or removed.
    func setReaction(_ chat: ChatID, seq: Seq, user: UserID, emoji: String, add: Bool) throws -> Bool {
        try with(add ? .addReaction : .removeReaction) { try $0.bind(chat, seq, user, emoji).run() }
        return changedRows == 1
    }

    func reactions(of user: UserID, in chat: ChatID, seq: Seq) throws -> [String] {
        try with(.reactionsOfUser) { try $0.bind(chat, seq, user).rows { $0.string(0) } }
    }
}

/// The writer's connection inside a group commit is the log rules'
/// transaction: each `LogRules.apply` runs in its op's savepoint, so its
/// checks and writes commit together or not at all.
extension SQLiteConnection: LogTransaction {}
