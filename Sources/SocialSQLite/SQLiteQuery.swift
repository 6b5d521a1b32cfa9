import Synchronization

/// A statement's SQL with a slot of its own in every connection's statement
/// cache: made once (a `static let`), so running it indexes an array instead
/// of building and hashing its text on every call.
///
/// Threads: a value; any thread.
struct SQLiteQuery: Sendable {
    let sql: String
    /// Its index in a connection's cache; unique per query made.
    let slot: Int

    init(_ sql: String) {
        self.sql = sql
        slot = Self.nextSlot.add(1, ordering: .relaxed).oldValue
    }

    private static let nextSlot = Atomic<Int>(0)
}

/// The statements of the hot path and the writer's transaction control.
extension SQLiteQuery {
    static let begin = SQLiteQuery("BEGIN")
    static let beginImmediate = SQLiteQuery("BEGIN IMMEDIATE")
    static let commit = SQLiteQuery("COMMIT")
    static let rollback = SQLiteQuery("ROLLBACK")
    static let savepoint = SQLiteQuery("SAVEPOINT op")
    static let release = SQLiteQuery("RELEASE op")
    static let rollbackToSavepoint = SQLiteQuery("ROLLBACK TO op")

    // Chats
    static let chat = SQLiteQuery("SELECT \(SQLiteRows.chatColumns) FROM chats WHERE id = ?")
    static let chatSeq = SQLiteQuery("SELECT seq FROM chats WHERE id = ?")
    static let directChat = SQLiteQuery("SELECT \(SQLiteRows.chatColumns) FROM chats WHERE direct_a = ? AND direct_b = ?")
    static let insertChat = SQLiteQuery("""
        INSERT INTO chats (id, kind, title, is_open, owner, direct_a, direct_b, seq, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    static let nextSeq = SQLiteQuery("UPDATE chats SET seq = seq + 1 WHERE id = ?")
    static let setTitle = SQLiteQuery("UPDATE chats SET title = ? WHERE id = ?")
    static let setOwner = SQLiteQuery("UPDATE chats SET owner = ? WHERE id = ?")

    // Members and invitations
    static let member = SQLiteQuery("SELECT \(SQLiteRows.memberColumns) FROM members WHERE chat_id = ? AND user_id = ?")
    static let insertMember = SQLiteQuery(
        "INSERT INTO members (chat_id, user_id, role, read_seq, joined_at) VALUES (?, ?, ?, ?, ?)")
    static let deleteMember = SQLiteQuery("DELETE FROM members WHERE chat_id = ? AND user_id = ?")
    static let setRole = SQLiteQuery("UPDATE members SET role = ? WHERE chat_id = ? AND user_id = ?")
    static let setReadSeq = SQLiteQuery("UPDATE members SET read_seq = ? WHERE chat_id = ? AND user_id = ?")
    static let invitation = SQLiteQuery(
        "SELECT \(SQLiteRows.invitationColumns) FROM invitations WHERE chat_id = ? AND user_id = ?")
    static let insertInvitation = SQLiteQuery(
        "INSERT INTO invitations (chat_id, user_id, invited_by, created_at) VALUES (?, ?, ?, ?)")
    static let deleteInvitation = SQLiteQuery("DELETE FROM invitations WHERE chat_id = ? AND user_id = ?")

    // Messages and reactions
    static let message = SQLiteQuery("SELECT \(SQLiteRows.messageColumns) FROM messages WHERE chat_id = ? AND seq = ?")
    static let messageByClientId = SQLiteQuery("""
        SELECT \(SQLiteRows.messageColumns) FROM messages
        WHERE chat_id = ? AND sender = ? AND client_msg_id = ?
        """)
    static let insertMessage = SQLiteQuery("""
        INSERT INTO messages (\(SQLiteRows.messageColumns))
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    static let updateMessage = SQLiteQuery("""
        UPDATE messages SET updated_seq = ?, text = ?, attachments = ?, data = ?, edited_at = ?, deleted = ?,
            reactions = ?
        WHERE chat_id = ? AND seq = ?
        """)
    static let historyFromEnd = SQLiteQuery("""
        SELECT \(SQLiteRows.messageColumns) FROM messages
        WHERE chat_id = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?
        """)
    static let historyFromStart = SQLiteQuery("""
        SELECT \(SQLiteRows.messageColumns) FROM messages
        WHERE chat_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?
        """)
    static let changes = SQLiteQuery("""
        SELECT \(SQLiteRows.messageColumns) FROM messages
        WHERE chat_id = ? AND updated_seq > ? ORDER BY updated_seq LIMIT ?
        """)
    static let unread = SQLiteQuery("""
        SELECT count(*) FROM messages
        WHERE chat_id = ? AND seq > ? AND sender <> ? AND deleted = 0 AND sender_kind <> 'system'
        """)
    static let addReaction = SQLiteQuery(
        "INSERT OR IGNORE INTO reactions (chat_id, seq, user_id, emoji) VALUES (?, ?, ?, ?)")
    static let removeReaction = SQLiteQuery(
        "DELETE FROM reactions WHERE chat_id = ? AND seq = ? AND user_id = ? AND emoji = ?")
    static let reactionsOfUser = SQLiteQuery(
        "SELECT emoji FROM reactions WHERE chat_id = ? AND seq = ? AND user_id = ? ORDER BY emoji")
}
