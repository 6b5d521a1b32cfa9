import SocialCore

/// Creating chats and reading chats, members and invitations.
/// Every body runs on a worker thread (`run`).
extension MongoChatStore {
    public func createGroup(id: ChatID, title: String, isOpen: Bool, owner: UserID, now: Int64) async throws -> (Chat, Message) {
        try await run { log in
            let chat = Chat(id: id, kind: .group, title: title, isOpen: isOpen, owner: owner, directUsers: [],
                            seq: 1, createdAt: now)
            let created = Message.system(SystemEvent(action: .created, userId: owner, title: title),
                                         chat: id, seq: 1, actor: owner, now: now)
            let owner = Member(chatId: id, userId: owner, role: .owner, readSeq: 0, joinedAt: now)
            let change = PendingChange(seq: 1, writes: [.join(id, owner.userId, ChatDocuments.memberFields(owner)),
                                                        try .insert(created)])
            try Self.insert(chat, with: change, log)
            return (chat, created)
        }
    }

    public func openDirect(newId: ChatID, between a: UserID, and b: UserID, now: Int64) async throws -> (chat: Chat, created: Bool) {
        guard a != b else { throw StoreError.conflict("a direct chat needs two different users") }
        return try await run { log in
            let pair = Chat.directPair(a, b)
            if let existing = try Self.directChat(pair, log) { return (existing, false) }
            let chat = Chat(id: newId, kind: .direct, title: nil, isOpen: false, owner: nil, directUsers: pair,
                            seq: 0, createdAt: now)
            let writes = pair.map { user in
                FencedWrite.join(newId, user, ChatDocuments.memberFields(
                    Member(chatId: newId, userId: user, role: .member, readSeq: 0, joinedAt: now)))
            }
            do {
                try Self.insert(chat, with: PendingChange(seq: 0, writes: writes), log)
                return (chat, true)
            } catch let error as StoreError where error.isConflict {
                // Lost the race for this pair (index direct_pair), or the id is taken by another chat.
                if let existing = try Self.directChat(pair, log) { return (existing, false) }
                throw error
            }
        }
    }

    public func chat(_ id: ChatID) async throws -> Chat? {
        try await run { log in try log.load(id) }
    }

    public func member(_ chat: ChatID, _ user: UserID) async throws -> Member? {
        try await run { log in try log.member(chat, user) }
    }

    public func members(_ chat: ChatID) async throws -> [Member] {
        try await run { log in
            _ = try log.require(chat)
            return try log.db.members.find(["chat": .string(chat), "on": true], sort: ["user": 1])
                .map(ChatDocuments.member)
        }
    }

    public func memberships(of user: UserID) async throws -> [Membership] {
        try await run { log in try Self.memberships(of: user, log, rolledForward: false) }
    }

    public func invitations(of user: UserID) async throws -> [Invitation] {
        try await run { log in
            try log.db.invitations.find(["user": .string(user), "on": true], sort: ["chat": 1])
                .map(ChatDocuments.invitation)
        }
    }

    public func invitation(_ chat: ChatID, _ user: UserID) async throws -> Invitation? {
        try await run { log in try log.invitation(chat, user) }
    }

    // MARK: Worker-thread helpers

    /// Inserts a new chat holding its first change, then completes it.
    /// A taken id (or direct pair) is a conflict.
    private static func insert(_ chat: Chat, with change: PendingChange, _ log: ChatLog) throws {
        var doc = ChatDocuments.document(chat)
        doc["pending"] = change.bson
        do {
            try log.db.chats.insert(doc)
        } catch let failure as MongoFailure where failure.isDuplicateKey {
            throw StoreError.conflict("chat \(chat.id) exists")
        }
        try log.complete(chat.id, change)
    }

    private static func directChat(_ pair: [UserID], _ log: ChatLog) throws -> Chat? {
        try log.db.chats.findOne(["da": .string(pair[0]), "db": .string(pair[1])]).map(log.rollForward)
    }

    /// The user's chats in id order with unread counts. Chats still holding a
    /// pending change are completed first and the list read again, so it
    /// shows their effect (a join or a leave of this user).
    private static func memberships(of user: UserID, _ log: ChatLog, rolledForward: Bool) throws -> [Membership] {
        let members = try log.db.members.find(["user": .string(user), "on": true], sort: ["chat": 1])
            .map(ChatDocuments.member)
        guard !members.isEmpty else { return [] }
        let docs = try log.db.chats.find(["_id": ["$in": .array(members.map { .string($0.chatId) })]])
        if !rolledForward, docs.contains(where: { $0["pending"] != nil }) {
            for doc in docs where doc["pending"] != nil { _ = try log.rollForward(doc) }
            return try memberships(of: user, log, rolledForward: true)
        }
        let chats = Dictionary(try docs.map { try ChatDocuments.chat($0) }.map { ($0.id, $0) },
                               uniquingKeysWith: { first, _ in first })
        return try members.compactMap { member in
            guard let chat = chats[member.chatId] else { return nil }
            return Membership(chat: chat, member: member, unread: try log.unread(member))
        }
    }
}
