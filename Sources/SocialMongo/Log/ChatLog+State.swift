import SocialCore

/// Reads of a chat's state, used to check changes and to answer lookups.
/// Threads: the worker thread that owns `db`.
extension ChatLog {
    func member(_ chat: ChatID, _ user: UserID) throws -> Member? {
        try db.members.findOne(["chat": .string(chat), "user": .string(user), "on": true]).map(ChatDocuments.member)
    }

    func requireMember(_ chat: ChatID, _ user: UserID) throws -> Member {
        guard let member = try member(chat, user) else { throw StoreError.notFound("\(user) is not a member of \(chat)") }
        return member
    }

    func invitation(_ chat: ChatID, _ user: UserID) throws -> Invitation? {
        try db.invitations.findOne(["chat": .string(chat), "user": .string(user), "on": true])
            .map(ChatDocuments.invitation)
    }

    func message(_ chat: ChatID, _ seq: Seq) throws -> StoredMessage? {
        try db.messages.findOne(["chat": .string(chat), "seq": .int64(seq)]).map(MessageDocuments.stored)
    }

    /// The message `sender` stored with `clientMsgId` in `chat`, if any.
    func message(_ chat: ChatID, sender: UserID, clientMsgId: String) throws -> Message? {
        try db.messages.findOne(["chat": .string(chat), "sender": .string(sender), "cmid": .string(clientMsgId)])
            .map { try MessageDocuments.stored($0).message }
    }

    /// Messages after `member`'s read marker that count as unread for them.
    func unread(_ member: Member) throws -> Int {
        try db.messages.count(["chat": .string(member.chatId), "seq": ["$gt": .int64(member.readSeq)],
                               "sender": ["$ne": .string(member.userId)], "del": false,
                               "sk": ["$ne": .string(SenderKind.system.rawValue)]])
    }
}
