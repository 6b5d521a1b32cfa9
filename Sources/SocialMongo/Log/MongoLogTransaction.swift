import SocialCore

/// `LogRules`' view of one chat during one attempt of a change: reads go to
/// the chat's state as `ChatLog.commit` loaded it (every change up to
/// `chat.seq` applied), and writes are recorded as the fenced writes of the
/// change that claims `chat.seq + 1`. If another change claims that seq
/// first, the attempt is thrown away and the rules run again on the new
/// state: so they hold at the seq the change takes (a member kicked before it
/// is refused), without a transaction.
///
/// Read markers take no seq: `setReadSeq` writes at once (`$max`, so it
/// never lowers a marker another node raised), outside `commit`.
///
/// Threads: the worker thread running the change; made per attempt.
final class MongoLogTransaction: LogTransaction {
    let log: ChatLog
    /// The chat as loaded; nil when there is none.
    let chat: Chat?
    /// The writes of the change, in order.
    private(set) var writes: [FencedWrite] = []
    /// Whether the change took the next seq (so it must claim it).
    private(set) var tookSeq = false
    /// Messages read so far, with who reacted (reactions are stored per user).
    private var stored: [Seq: StoredMessage] = [:]
    /// Reaction lists this change rewrote.
    private var reactors: [Seq: [StoredMessage.Reaction]] = [:]

    init(log: ChatLog, chat: Chat?) {
        self.log = log
        self.chat = chat
    }

    func chatSeq(_ id: ChatID) throws -> Seq? {
        try check(id)
        return chat?.seq
    }

    func member(_ id: ChatID, _ user: UserID) throws -> Member? {
        try check(id)
        return try log.member(id, user)
    }

    func message(_ id: ChatID, seq: Seq) throws -> Message? {
        try stored(id, seq)?.message
    }

    func message(_ id: ChatID, sender: UserID, clientMsgId: String) throws -> Message? {
        try check(id)
        return try log.message(id, sender: sender, clientMsgId: clientMsgId)
    }

    func nextSeq(_ id: ChatID) throws -> Seq {
        try check(id)
        guard let chat else { throw StoreError.notFound("no chat \(id)") }
        guard !tookSeq else { throw StoreError.unavailable("mongo: a change takes one seq") }
        tookSeq = true
        return chat.seq + 1
    }

    func insert(_ message: Message) throws {
        writes.append(try .insert(message))
    }

    func update(_ message: Message) throws {
        var (set, unset) = try MessageDocuments.mutableFields(message)
        if let rewritten = reactors[message.seq] { set["rx"] = MessageDocuments.reactors(rewritten) }
        writes.append(.update(message.chatId, seq: message.seq, set: set, unset: unset))
    }

    func setReaction(_ id: ChatID, seq: Seq, user: UserID, emoji: String, add: Bool) throws -> Bool {
        guard let message = try stored(id, seq) else { throw StoreError.notFound("no message \(id)/\(seq)") }
        let current = reactors[seq] ?? message.reactors
        let reaction = StoredMessage.Reaction(user: user, emoji: emoji)
        guard current.contains(reaction) != add else { return false }
        reactors[seq] = add ? current + [reaction] : current.filter { $0 != reaction }
        return true
    }

    func setReadSeq(_ id: ChatID, user: UserID, seq: Seq) throws {
        try check(id)
        // Not a log change: `$max` only raises the marker, so concurrent marks need no claim.
        let result = try log.db.members.updateOne(["chat": .string(id), "user": .string(user), "on": true],
                                                  ["$max": ["read": .int64(seq)]])
        guard result.matched == 1 else { throw StoreError.notFound("\(user) is not a member of \(id)") }
    }

    func unread(_ member: Member) throws -> Int {
        try log.unread(member)
    }

    /// A message of the chat, read once per attempt.
    private func stored(_ id: ChatID, _ seq: Seq) throws -> StoredMessage? {
        try check(id)
        if let known = stored[seq] { return known }
        let found = try log.message(id, seq)
        stored[seq] = found
        return found
    }

    /// A change concerns one chat: the one loaded.
    private func check(_ id: ChatID) throws {
        guard id == chat?.id ?? id else { throw StoreError.unavailable("mongo: a change concerns one chat") }
    }
}
