import SocialCore

/// Chat, member and invitation rows. Called inside a transaction on the
/// connection's own thread (the writer, or a reader inside `read`).
extension SQLiteConnection {
    func chat(_ id: ChatID) throws -> Chat? {
        try with(.chat) { try $0.bind(id).first(SQLiteRows.chat) }
    }

    func requireChat(_ id: ChatID) throws -> Chat {
        guard let chat = try chat(id) else { throw StoreError.notFound("no chat \(id)") }
        return chat
    }

    /// The chat's position (its latest seq); nil when there is no such chat.
    func chatSeq(_ id: ChatID) throws -> Seq? {
        try with(.chatSeq) { try $0.bind(id).first { $0.int64(0) } }
    }

    func chatExists(_ id: ChatID) throws -> Bool { try chatSeq(id) != nil }

    func directChat(_ pair: [UserID]) throws -> Chat? {
        try with(.directChat) { try $0.bind(pair[0], pair[1]).first(SQLiteRows.chat) }
    }

    func insert(_ chat: Chat) throws {
        let pair: [UserID?] = chat.directUsers.count == 2 ? chat.directUsers : [nil, nil]
        try with(.insertChat) {
            try $0.bind(chat.id, chat.kind.rawValue, chat.title, chat.isOpen, chat.owner, pair[0], pair[1],
                        chat.seq, chat.createdAt).run()
        }
    }

    /// Takes `chat`'s next seq. NotFound when there is no such chat.
    /// (An UPDATE, then a SELECT: `UPDATE ... RETURNING` collects its rows in
    /// an ephemeral table and cost a quarter of the writer's time per send.)
    func nextSeq(_ chat: ChatID) throws -> Seq {
        try with(.nextSeq) { try $0.bind(chat).run() }
        guard changedRows == 1, let seq = try chatSeq(chat) else { throw StoreError.notFound("no chat \(chat)") }
        return seq
    }

    func setTitle(_ chat: ChatID, _ title: String) throws {
        try with(.setTitle) { try $0.bind(title, chat).run() }
    }

    func setOwner(_ chat: ChatID, _ owner: UserID) throws {
        try with(.setOwner) { try $0.bind(owner, chat).run() }
    }

    func member(_ chat: ChatID, _ user: UserID) throws -> Member? {
        try with(.member) { try $0.bind(chat, user).first(SQLiteRows.member) }
    }

    func requireMember(_ chat: ChatID, _ user: UserID) throws -> Member {
        guard let member = try member(chat, user) else { throw StoreError.notFound("\(user) is not a member of \(chat)") }
        return member
    }

    func insert(_ member: Member) throws {
        try with(.insertMember) {
            try $0.bind(member.chatId, member.userId, member.role.rawValue, member.readSeq, member.joinedAt).run()
        }
    }

    func deleteMember(_ chat: ChatID, _ user: UserID) throws {
        try with(.deleteMember) { try $0.bind(chat, user).run() }
    }

    func setRole(_ chat: ChatID, _ user: UserID, _ role: Role) throws {
        try with(.setRole) { try $0.bind(role.rawValue, chat, user).run() }
    }

    /// Sets a member's read marker. NotFound when `user` is not a member.
    func setReadSeq(_ chat: ChatID, user: UserID, seq: Seq) throws {
        try with(.setReadSeq) { try $0.bind(seq, chat, user).run() }
        guard changedRows == 1 else { throw StoreError.notFound("\(user) is not a member of \(chat)") }
    }

    func invitation(_ chat: ChatID, _ user: UserID) throws -> Invitation? {
        try with(.invitation) { try $0.bind(chat, user).first(SQLiteRows.invitation) }
    }

    func insert(_ invitation: Invitation) throws {
        try with(.insertInvitation) {
            try $0.bind(invitation.chatId, invitation.userId, invitation.invitedBy, invitation.createdAt).run()
        }
    }

    func deleteInvitation(_ chat: ChatID, _ user: UserID) throws {
        try with(.deleteInvitation) { try $0.bind(chat, user).run() }
    }
}
