import SocialCore

/// Chats, members and invitations. Writes run on the writer thread inside a
/// group commit; each checks before it changes anything, and its savepoint
/// undoes what it wrote when it throws. Reads run on a reader thread.
extension SQLiteChatStore {
    public func createGroup(id: ChatID, title: String, isOpen: Bool, owner: UserID, now: Int64) async throws -> (Chat, Message) {
        try await writer.submit { db in
            guard try !db.chatExists(id) else { throw StoreError.conflict("chat \(id) exists") }
            let chat = Chat(id: id, kind: .group, title: title, isOpen: isOpen, owner: owner, directUsers: [],
                            seq: 1, createdAt: now)
            let created = Message.system(SystemEvent(action: .created, userId: owner, title: title),
                                         chat: id, seq: 1, actor: owner, now: now)
            try db.insert(chat)
            try db.insert(Member(chatId: id, userId: owner, role: .owner, readSeq: 0, joinedAt: now))
            try db.insert(created)
            return (chat, created)
        }
    }

    public func openDirect(newId: ChatID, between a: UserID, and b: UserID, now: Int64) async throws -> (chat: Chat, created: Bool) {
        guard a != b else { throw StoreError.conflict("a direct chat needs two different users") }
        let pair = Chat.directPair(a, b)
        if let existing = try await readers.read({ db in try db.directChat(pair) }) { return (existing, false) }
        // Checked again on the writer, which runs one op at a time: concurrent callers get the same chat.
        return try await writer.submit { db in
            if let existing = try db.directChat(pair) { return (existing, false) }
            guard try !db.chatExists(newId) else { throw StoreError.conflict("chat \(newId) exists") }
            let chat = Chat(id: newId, kind: .direct, title: nil, isOpen: false, owner: nil, directUsers: pair,
                            seq: 0, createdAt: now)
            try db.insert(chat)
            for user in pair {
                try db.insert(Member(chatId: newId, userId: user, role: .member, readSeq: 0, joinedAt: now))
            }
            return (chat, true)
        }
    }

    public func chat(_ id: ChatID) async throws -> Chat? {
        try await readers.read { db in try db.chat(id) }
    }

    public func member(_ chat: ChatID, _ user: UserID) async throws -> Member? {
        try await readers.read { db in try db.member(chat, user) }
    }

    public func members(_ chat: ChatID) async throws -> [Member] {
        try await readers.read { db in
            guard try db.chatExists(chat) else { throw StoreError.notFound("no chat \(chat)") }
            return try db.with(Self.membersOfChat) {
                try $0.bind(chat).rows(SQLiteRows.member)
            }
        }
    }

    public func memberships(of user: UserID) async throws -> [Membership] {
        try await readers.read { db in
            try db.with(Self.membershipsOfUser) {
                try $0.bind(user).rows { row in
                    Membership(chat: try SQLiteRows.chat(row), member: try SQLiteRows.member(row, from: 9),
                               unread: Int(row.int64(14)))
                }
            }
        }
    }

    static let membersOfChat = SQLiteQuery(
        "SELECT \(SQLiteRows.memberColumns) FROM members WHERE chat_id = ? ORDER BY user_id")

    /// One pass over the user's memberships (index on user_id); each unread
    /// count scans only that chat's messages after the read marker.
    static let membershipsOfUser = SQLiteQuery("""
        SELECT c.id, c.kind, c.title, c.is_open, c.owner, c.direct_a, c.direct_b, c.seq, c.created_at,
               m.chat_id, m.user_id, m.role, m.read_seq, m.joined_at,
               (SELECT count(*) FROM messages x
                WHERE x.chat_id = m.chat_id AND x.seq > m.read_seq AND x.sender <> m.user_id
                  AND x.deleted = 0 AND x.sender_kind <> 'system')
        FROM members m JOIN chats c ON c.id = m.chat_id
        WHERE m.user_id = ? ORDER BY m.chat_id
        """)

    public func invitations(of user: UserID) async throws -> [Invitation] {
        try await readers.read { db in
            try db.with("SELECT \(SQLiteRows.invitationColumns) FROM invitations WHERE user_id = ? ORDER BY chat_id") {
                try $0.bind(user).rows(SQLiteRows.invitation)
            }
        }
    }

    public func invitation(_ chat: ChatID, _ user: UserID) async throws -> Invitation? {
        try await readers.read { db in try db.invitation(chat, user) }
    }

    /// Applies `change` and appends its system message in the writer's next
    /// group commit (one savepoint); `completion` runs on the writer thread
    /// once the batch is committed, in submission order with the log changes.
    public func submit(_ change: MembershipChange, to chat: ChatID, now: Int64,
                       completion: @escaping @Sendable (Result<Message, any Error>) -> Void) {
        writer.enqueue({ db in
            let current = try db.requireChat(chat)
            guard current.kind == .group else { throw StoreError.conflict("chat \(chat) is not a group") }
            try Self.apply(change, to: current, now: now, db)
            let message = Message.system(change.systemEvent, chat: chat, seq: try db.nextSeq(chat),
                                         actor: change.actor, now: now)
            try db.insert(message)
            // A new member has read the history up to their own join.
            if case .join(let user, _) = change { try db.setReadSeq(chat, user: user, seq: message.seq) }
            return message
        }, completion: completion)
    }

    /// The state part of a membership change; checks come first in each case.
    private static func apply(_ change: MembershipChange, to chat: Chat, now: Int64, _ db: SQLiteConnection) throws {
        let id = chat.id
        switch change {
        case .join(let user, let role):
            guard try db.member(id, user) == nil else { throw StoreError.conflict("\(user) is a member of \(id)") }
            try db.insert(Member(chatId: id, userId: user, role: role, readSeq: 0, joinedAt: now))
            try db.deleteInvitation(id, user)
        case .invite(let user, let by):
            guard try db.member(id, user) == nil else { throw StoreError.conflict("\(user) is a member of \(id)") }
            guard try db.invitation(id, user) == nil else { throw StoreError.conflict("\(user) is invited to \(id)") }
            try db.insert(Invitation(chatId: id, userId: user, invitedBy: by, createdAt: now))
        case .leave(let user), .kick(let user, _):
            _ = try db.requireMember(id, user)
            try db.deleteMember(id, user)
        case .setRole(let user, let role, _):
            _ = try db.requireMember(id, user)
            try db.setRole(id, user, role)
        case .transfer(let to, _):
            _ = try db.requireMember(id, to)
            if let previous = chat.owner, previous != to { try db.setRole(id, previous, .admin) }
            try db.setRole(id, to, .owner)
            try db.setOwner(id, to)
        case .rename(let title, _):
            try db.setTitle(id, title)
        }
    }
}
