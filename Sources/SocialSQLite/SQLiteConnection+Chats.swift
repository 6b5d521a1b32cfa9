import SocialCore

/// Chat, member and invitation rows. Called inside a transaction on the
/// connection's own thread (the writer, or a reader inside `read`).
extension SQLiteConnection {
    func chat(_ id: ChatID) throws -> Chat? {
        try with("SELECT \(SQLiteRows.chatColumns) FROM chats WHERE id = ?") { try $0.bind(id).first(SQLiteRows.chat) }
    }

    func requireChat(_ id: ChatID) throws -> Chat {
        guard let chat = try chat(id) else { throw StoreError.notFound("no chat \(id)") }
        return chat
    }

    func chatExists(_ id: ChatID) throws -> Bool {
        try with("SELECT 1 FROM chats WHERE id = ?") { try $0.bind(id).step() }
    }

    func directChat(_ pair: [UserID]) throws -> Chat? {
        try with("SELECT \(SQLiteRows.chatColumns) FROM chats WHERE direct_a = ? AND direct_b = ?") {
            try $0.bind(pair[0], pair[1]).first(SQLiteRows.chat)
        }
    }

    func insert(_ chat: Chat) throws {
        let pair: [UserID?] = chat.directUsers.count == 2 ? chat.directUsers : [nil, nil]
        try with("""
            INSERT INTO chats (id, kind, title, is_open, owner, direct_a, direct_b, seq, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) {
            try $0.bind(chat.id, chat.kind.rawValue, chat.title, chat.isOpen, chat.owner, pair[0], pair[1],
                        chat.seq, chat.createdAt).run()
        }
    }

    /// Takes `chat`'s next seq. NotFound when there is no such chat.
    func nextSeq(_ chat: ChatID) throws -> Seq {
        let seq = try with("UPDATE chats SET seq = seq + 1 WHERE id = ? RETURNING seq") {
            try $0.bind(chat).first { $0.int64(0) }
        }
        guard let seq else { throw StoreError.notFound("no chat \(chat)") }
        return seq
    }

    func setTitle(_ chat: ChatID, _ title: String) throws {
        try with("UPDATE chats SET title = ? WHERE id = ?") { try $0.bind(title, chat).run() }
    }

    func setOwner(_ chat: ChatID, _ owner: UserID) throws {
        try with("UPDATE chats SET owner = ? WHERE id = ?") { try $0.bind(owner, chat).run() }
    }

    func member(_ chat: ChatID, _ user: UserID) throws -> Member? {
        try with("SELECT \(SQLiteRows.memberColumns) FROM members WHERE chat_id = ? AND user_id = ?") {
            try $0.bind(chat, user).first(SQLiteRows.member)
        }
    }

    func requireMember(_ chat: ChatID, _ user: UserID) throws -> Member {
        guard let member = try member(chat, user) else { throw StoreError.notFound("\(user) is not a member of \(chat)") }
        return member
    }

    func insert(_ member: Member) throws {
        try with("INSERT INTO members (chat_id, user_id, role, read_seq, joined_at) VALUES (?, ?, ?, ?, ?)") {
            try $0.bind(member.chatId, member.userId, member.role.rawValue, member.readSeq, member.joinedAt).run()
        }
    }

    func deleteMember(_ chat: ChatID, _ user: UserID) throws {
        try with("DELETE FROM members WHERE chat_id = ? AND user_id = ?") { try $0.bind(chat, user).run() }
    }

    func setRole(_ chat: ChatID, _ user: UserID, _ role: Role) throws {
        try with("UPDATE members SET role = ? WHERE chat_id = ? AND user_id = ?") {
            try $0.bind(role.rawValue, chat, user).run()
        }
    }

    func setReadSeq(_ chat: ChatID, _ user: UserID, _ seq: Seq) throws {
        try with("UPDATE members SET read_seq = ? WHERE chat_id = ? AND user_id = ?") { try $0.bind(seq, chat, user).run() }
    }

    func invitation(_ chat: ChatID, _ user: UserID) throws -> Invitation? {
        try with("SELECT \(SQLiteRows.invitationColumns) FROM invitations WHERE chat_id = ? AND user_id = ?") {
            try $0.bind(chat, user).first(SQLiteRows.invitation)
        }
    }

    func insert(_ invitation: Invitation) throws {
        try with("INSERT INTO invitations (chat_id, user_id, invited_by, created_at) VALUES (?, ?, ?, ?)") {
            try $0.bind(invitation.chatId, invitation.userId, invitation.invitedBy, invitation.createdAt).run()
        }
    }

    func deleteInvitation(_ chat: ChatID, _ user: UserID) throws {
        try with("DELETE FROM invitations WHERE chat_id = ? AND user_id = ?") { try $0.bind(chat, user).run() }
    }
}
