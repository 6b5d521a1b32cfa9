import SocialProtocol

/// A complete `ChatStore` in memory, for unit tests and single-process demos.
/// Nothing survives the process; every call is "durable" once it returns.
///
/// Threads: any thread or task may call it; the actor serialises every call,
/// so each method is atomic, like one transaction of a persistent store.
/// Lookups scan a chat's messages (fine for tests, not for production sizes).
///
/// Where the protocol leaves room, it reads it as the contract suite checks:
/// membership changes apply to groups only (a conflict on a direct chat);
/// `history` with both `before` and `after` returns the first `limit`
/// messages strictly between them; `delete` keeps the reaction counts.
public actor MemoryChatStore: ChatStore {
    private struct ClientKey: Hashable {
        var sender: UserID
        var clientMsgId: String
    }

    private struct ChatState {
        var chat: Chat
        var members: [UserID: Member] = [:]
        var invitations: [UserID: Invitation] = [:]
        /// Ascending by seq; `index[seq]` is a message's position.
        var messages: [Message] = []
        var index: [Seq: Int] = [:]
        /// seq → user → emoji.
        var reactions: [Seq: [UserID: Set<String>]] = [:]
        var clientIds: [ClientKey: Seq] = [:]

        /// Takes the chat's next seq.
        mutating func nextSeq() -> Seq {
            chat.seq += 1
            return chat.seq
        }

        mutating func insert(_ message: Message) {
            index[message.seq] = messages.count
            messages.append(message)
        }
    }

    private var chats: [ChatID: ChatState] = [:]
    private var directs: [[UserID]: ChatID] = [:]
    private var chatsOfUser: [UserID: Set<ChatID>] = [:]
    private var invitedTo: [UserID: Set<ChatID>] = [:]

    public init() {}

    // MARK: Chats

    public func createGroup(id: ChatID, title: String, isOpen: Bool, owner: UserID, now: Int64) throws -> (Chat, Message) {
        guard chats[id] == nil else { throw StoreError.conflict("chat \(id) exists") }
        var state = ChatState(chat: Chat(id: id, kind: .group, title: title, isOpen: isOpen, owner: owner,
                                         directUsers: [], seq: 0, createdAt: now))
        state.members[owner] = Member(chatId: id, userId: owner, role: .owner, readSeq: 0, joinedAt: now)
        let created = Message.system(SystemEvent(action: .created, userId: owner, title: title),
                                     chat: id, seq: state.nextSeq(), actor: owner, now: now)
        state.insert(created)
        chats[id] = state
        chatsOfUser[owner, default: []].insert(id)
        return (state.chat, created)
    }

    public func openDirect(newId: ChatID, between a: UserID, and b: UserID, now: Int64) throws -> (chat: Chat, created: Bool) {
        guard a != b else { throw StoreError.conflict("a direct chat needs two different users") }
        let pair = Chat.directPair(a, b)
        if let existing = directs[pair], let state = chats[existing] { return (state.chat, false) }
        guard chats[newId] == nil else { throw StoreError.conflict("chat \(newId) exists") }
        var state = ChatState(chat: Chat(id: newId, kind: .direct, title: nil, isOpen: false, owner: nil,
                                         directUsers: pair, seq: 0, createdAt: now))
        for user in pair {
            state.members[user] = Member(chatId: newId, userId: user, role: .member, readSeq: 0, joinedAt: now)
            chatsOfUser[user, default: []].insert(newId)
        }
        chats[newId] = state
        directs[pair] = newId
        return (state.chat, true)
    }

    public func chat(_ id: ChatID) -> Chat? { chats[id]?.chat }

    public func member(_ chat: ChatID, _ user: UserID) -> Member? { chats[chat]?.members[user] }

    public func members(_ chat: ChatID) throws -> [Member] {
        try state(chat).members.values.sorted { $0.userId < $1.userId }
    }

    public func memberships(of user: UserID) -> [Membership] {
        (chatsOfUser[user] ?? []).sorted().compactMap { id in
            guard let state = chats[id], let member = state.members[user] else { return nil }
            return Membership(chat: state.chat, member: member, unread: Self.unread(in: state, member: member))
        }
    }

    public func invitations(of user: UserID) -> [Invitation] {
        (invitedTo[user] ?? []).sorted().compactMap { chats[$0]?.invitations[user] }
    }

    public func invitation(_ chat: ChatID, _ user: UserID) -> Invitation? { chats[chat]?.invitations[user] }

    // MARK: Membership

    public func apply(_ change: MembershipChange, to chat: ChatID, now: Int64) throws -> Message {
        try modify(chat) { state in try apply(change, to: &state, now: now) }
    }

    /// Checks come before changes in each case, so a thrown error leaves `state` as it was.
    private func apply(_ change: MembershipChange, to state: inout ChatState, now: Int64) throws -> Message {
        let chat = state.chat.id
        guard state.chat.kind == .group else { throw StoreError.conflict("chat \(chat) is not a group") }
        switch change {
        case .join(let user, let role):
            guard state.members[user] == nil else { throw StoreError.conflict("\(user) is a member of \(chat)") }
            state.members[user] = Member(chatId: chat, userId: user, role: role, readSeq: 0, joinedAt: now)
            state.invitations[user] = nil
            chatsOfUser[user, default: []].insert(chat)
            invitedTo[user]?.remove(chat)
        case .invite(let user, let by):
            guard state.members[user] == nil else { throw StoreError.conflict("\(user) is a member of \(chat)") }
            guard state.invitations[user] == nil else { throw StoreError.conflict("\(user) is invited to \(chat)") }
            state.invitations[user] = Invitation(chatId: chat, userId: user, invitedBy: by, createdAt: now)
            invitedTo[user, default: []].insert(chat)
        case .leave(let user), .kick(let user, _):
            guard state.members[user] != nil else { throw StoreError.notFound("\(user) is not a member of \(chat)") }
            state.members[user] = nil
            chatsOfUser[user]?.remove(chat)
        case .setRole(let user, let role, _):
            guard state.members[user] != nil else { throw StoreError.notFound("\(user) is not a member of \(chat)") }
            state.members[user]?.role = role
        case .transfer(let to, _):
            guard state.members[to] != nil else { throw StoreError.notFound("\(to) is not a member of \(chat)") }
            if let previous = state.chat.owner, previous != to { state.members[previous]?.role = .admin }
            state.members[to]?.role = .owner
            state.chat.owner = to
        case .rename(let title, _):
            state.chat.title = title
        }
        let message = Message.system(change.systemEvent, chat: chat, seq: state.nextSeq(), actor: change.actor, now: now)
        state.insert(message)
        return message
    }

    // MARK: Messages

    public func append(_ new: NewMessage) throws -> AppendResult {
        try modify(new.chatId) { state in Self.append(new, to: &state) }
    }

    private static func append(_ new: NewMessage, to state: inout ChatState) -> AppendResult {
        let key = new.clientMsgId.map { ClientKey(sender: new.sender, clientMsgId: $0) }
        if let key, let seq = state.clientIds[key], let i = state.index[seq] {
            return AppendResult(message: state.messages[i], duplicate: true)
        }
        let seq = state.nextSeq()
        let message = Message(chatId: new.chatId, seq: seq, updatedSeq: seq, sender: new.sender,
                              senderKind: new.senderKind, kind: new.kind, text: new.text,
                              clientMsgId: new.clientMsgId, replyTo: new.replyTo, attachments: new.attachments,
                              data: new.data, system: nil, createdAt: new.createdAt, editedAt: nil,
                              deleted: false, reactions: [:])
        state.insert(message)
        if let key { state.clientIds[key] = seq }
        return AppendResult(message: message, duplicate: false)
    }

    public func edit(_ chat: ChatID, seq: Seq, text: String, data: JSONValue?, now: Int64) throws -> Message {
        try change(chat, seq) { state, message in
            guard !message.deleted else { throw StoreError.conflict("message \(chat)/\(seq) is deleted") }
            message.text = text
            if let data { message.data = data }
            message.editedAt = now
            message.updatedSeq = state.nextSeq()
            return true
        }!
    }

    public func delete(_ chat: ChatID, seq: Seq, now: Int64) throws -> Message {
        try change(chat, seq) { state, message in
            guard !message.deleted else { throw StoreError.conflict("message \(chat)/\(seq) is deleted") }
            message.deleted = true
            message.text = nil
            message.attachments = []
            message.data = nil
            message.editedAt = now
            message.updatedSeq = state.nextSeq()
            return true
        }!
    }

    public func react(_ chat: ChatID, seq: Seq, user: UserID, emoji: String, add: Bool) throws -> Message? {
        try change(chat, seq) { state, message in
            guard !message.deleted else { throw StoreError.conflict("message \(chat)/\(seq) is deleted") }
            var mine = state.reactions[seq]?[user] ?? []
            let changed = add ? mine.insert(emoji).inserted : mine.remove(emoji) != nil
            guard changed else { return false }
            state.reactions[seq, default: [:]][user] = mine.isEmpty ? nil : mine
            let count = (message.reactions[emoji] ?? 0) + (add ? 1 : -1)
            message.reactions[emoji] = count > 0 ? count : nil
            message.updatedSeq = state.nextSeq()
            return true
        }
    }

    public func message(_ chat: ChatID, seq: Seq) -> Message? {
        guard let state = chats[chat], let i = state.index[seq] else { return nil }
        return state.messages[i]
    }

    public func history(_ chat: ChatID, before: Seq?, after: Seq?, limit: Int) throws -> [Message] {
        let messages = try state(chat).messages
        guard limit > 0 else { return [] }
        let inRange = messages.filter { ($0.seq < (before ?? .max)) && ($0.seq > (after ?? .min)) }
        return Array(after != nil ? inRange.prefix(limit) : inRange.suffix(limit))
    }

    public func changes(_ chat: ChatID, after: Seq, limit: Int) throws -> [Message] {
        let messages = try state(chat).messages
        guard limit > 0 else { return [] }
        return Array(messages.filter { $0.updatedSeq > after }.sorted { $0.updatedSeq < $1.updatedSeq }.prefix(limit))
    }

    public func reactions(of user: UserID, in chat: ChatID, seqs: [Seq]) throws -> [Seq: [String]] {
        let state = try state(chat)
        var result: [Seq: [String]] = [:]
        for seq in seqs {
            if let mine = state.reactions[seq]?[user], !mine.isEmpty { result[seq] = mine.sorted() }
        }
        return result
    }

    // MARK: Read markers

    public func markRead(_ chat: ChatID, user: UserID, seq: Seq) throws -> Seq {
        try modify(chat) { state in
            guard var member = state.members[user] else { throw StoreError.notFound("\(user) is not a member of \(chat)") }
            member.readSeq = max(member.readSeq, min(seq, state.chat.seq))
            state.members[user] = member
            return member.readSeq
        }
    }

    public func unread(_ chat: ChatID, user: UserID) throws -> Int {
        let state = try state(chat)
        guard let member = state.members[user] else { throw StoreError.notFound("\(user) is not a member of \(chat)") }
        return Self.unread(in: state, member: member)
    }

    public func ping() -> Bool { true }

    // MARK: Helpers

    private func state(_ chat: ChatID) throws -> ChatState {
        guard let state = chats[chat] else { throw StoreError.notFound("no chat \(chat)") }
        return state
    }

    /// Runs `body` on `chat`'s state in place (taken out of the table so its
    /// arrays are not copied). `body` must throw before it changes anything.
    private func modify<T>(_ chat: ChatID, _ body: (inout ChatState) throws -> T) throws -> T {
        guard var state = chats.removeValue(forKey: chat) else { throw StoreError.notFound("no chat \(chat)") }
        defer { chats[chat] = state }
        return try body(&state)
    }

    /// Runs `body` on message `seq` of `chat`; stores the result when `body` returns true.
    /// Returns the changed message, or nil when `body` changed nothing.
    private func change(_ chat: ChatID, _ seq: Seq,
                        _ body: (inout ChatState, inout Message) throws -> Bool) throws -> Message? {
        try modify(chat) { state in
            guard let i = state.index[seq] else { throw StoreError.notFound("no message \(chat)/\(seq)") }
            var message = state.messages[i]
            guard try body(&state, &message) else { return nil }
            state.messages[i] = message
            return message
        }
    }

    private static func unread(in state: ChatState, member: Member) -> Int {
        state.messages.reduce(0) { count, message in
            count + (message.seq > member.readSeq && message.countsAsUnread(for: member.userId) ? 1 : 0)
        }
    }
}
