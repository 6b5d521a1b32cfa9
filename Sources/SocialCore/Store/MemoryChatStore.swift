import SocialProtocol
import Synchronization

/// A complete `ChatStore` in memory, for unit tests, benchmarks and
/// single-process demos. Nothing survives the process; every call is
/// "durable" once it returns.
///
/// Threads: any thread or task may call it; one lock serialises every call,
/// so each method is atomic, like one transaction of a persistent store.
/// `submit` runs the change and its completion on the caller's thread before
/// it returns (no hand-off: the transport's service thread gets its reply at
/// once), so changes submitted from one thread apply in submission order.
/// Lookups scan a chat's messages (fine for tests, not for production sizes).
///
/// Where the protocol leaves room, it reads it as the contract suite checks:
/// membership changes apply to groups only (a conflict on a direct chat);
/// `history` with both `before` and `after` returns the first `limit`
/// messages strictly between them; `delete` keeps the reaction counts.
public final class MemoryChatStore: ChatStore {
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

        func unread(_ member: Member) -> Int {
            messages.reduce(0) { count, message in
                count + (message.seq > member.readSeq && message.countsAsUnread(for: member.userId) ? 1 : 0)
            }
        }
    }

    /// Everything the store holds. `@unchecked Sendable`: it is reached only
    /// through `tables.withLock`, so one thread at a time touches it.
    private final class Tables: @unchecked Sendable {
        var chats: [ChatID: ChatState] = [:]
        var directs: [[UserID]: ChatID] = [:]
        var chatsOfUser: [UserID: Set<ChatID>] = [:]
        var invitedTo: [UserID: Set<ChatID>] = [:]
    }

    private let tables = Mutex(Tables())

    public init() {}

    /// Runs `body` with the tables locked: one call, one atomic step.
    private func locked<T>(_ body: (Tables) throws -> T) throws -> T {
        try tables.withLock { try body($0) }
    }

    private func locked<T>(_ body: (Tables) -> T) -> T {
        tables.withLock { body($0) }
    }

    // MARK: Chats

    public func createGroup(id: ChatID, title: String, isOpen: Bool, owner: UserID, now: Int64) throws -> (Chat, Message) {
        try locked { t in
            guard t.chats[id] == nil else { throw StoreError.conflict("chat \(id) exists") }
            var state = ChatState(chat: Chat(id: id, kind: .group, title: title, isOpen: isOpen, owner: owner,
                                             directUsers: [], seq: 0, createdAt: now))
            state.members[owner] = Member(chatId: id, userId: owner, role: .owner, readSeq: 0, joinedAt: now)
            let created = Message.system(SystemEvent(action: .created, userId: owner, title: title),
                                         chat: id, seq: state.nextSeq(), actor: owner, now: now)
            state.insert(created)
            t.chats[id] = state
            t.chatsOfUser[owner, default: []].insert(id)
            return (state.chat, created)
        }
    }

    public func openDirect(newId: ChatID, between a: UserID, and b: UserID, now: Int64) throws -> (chat: Chat, created: Bool) {
        try locked { t in
            guard a != b else { throw StoreError.conflict("a direct chat needs two different users") }
            let pair = Chat.directPair(a, b)
            if let existing = t.directs[pair], let state = t.chats[existing] { return (state.chat, false) }
            guard t.chats[newId] == nil else { throw StoreError.conflict("chat \(newId) exists") }
            var state = ChatState(chat: Chat(id: newId, kind: .direct, title: nil, isOpen: false, owner: nil,
                                             directUsers: pair, seq: 0, createdAt: now))
            for user in pair {
                state.members[user] = Member(chatId: newId, userId: user, role: .member, readSeq: 0, joinedAt: now)
                t.chatsOfUser[user, default: []].insert(newId)
            }
            t.chats[newId] = state
            t.directs[pair] = newId
            return (state.chat, true)
        }
    }

    public func chat(_ id: ChatID) -> Chat? { locked { $0.chats[id]?.chat } }

    public func member(_ chat: ChatID, _ user: UserID) -> Member? { locked { $0.chats[chat]?.members[user] } }

    public func members(_ chat: ChatID) throws -> [Member] {
        try locked { t in try Self.state(chat, t).members.values.sorted { $0.userId < $1.userId } }
    }

    public func memberships(of user: UserID) -> [Membership] {
        locked { t in
            (t.chatsOfUser[user] ?? []).sorted().compactMap { id in
                guard let state = t.chats[id], let member = state.members[user] else { return nil }
                return Membership(chat: state.chat, member: member, unread: state.unread(member))
            }
        }
    }

    public func invitations(of user: UserID) -> [Invitation] {
        locked { t in (t.invitedTo[user] ?? []).sorted().compactMap { t.chats[$0]?.invitations[user] } }
    }

    public func invitation(_ chat: ChatID, _ user: UserID) -> Invitation? {
        locked { $0.chats[chat]?.invitations[user] }
    }

    // MARK: Membership

    public func submit(_ change: MembershipChange, to chat: ChatID, now: Int64,
                       completion: @escaping @Sendable (Result<Message, any Error>) -> Void) {
        let result = Result<Message, any Error> {
            try locked { t in try Self.modify(chat, t) { state in try Self.apply(change, to: &state, t, now: now) } }
        }
        completion(result)
    }

    /// Checks come before changes in each case, so a thrown error leaves `state` as it was.
    private static func apply(_ change: MembershipChange, to state: inout ChatState, _ t: Tables, now: Int64) throws -> Message {
        let chat = state.chat.id
        guard state.chat.kind == .group else { throw StoreError.conflict("chat \(chat) is not a group") }
        switch change {
        case .join(let user, let role):
            guard state.members[user] == nil else { throw StoreError.conflict("\(user) is a member of \(chat)") }
            state.members[user] = Member(chatId: chat, userId: user, role: role, readSeq: 0, joinedAt: now)
            state.invitations[user] = nil
            t.chatsOfUser[user, default: []].insert(chat)
            t.invitedTo[user]?.remove(chat)
        case .invite(let user, let by):
            guard state.members[user] == nil else { throw StoreError.conflict("\(user) is a member of \(chat)") }
            guard state.invitations[user] == nil else { throw StoreError.conflict("\(user) is invited to \(chat)") }
            state.invitations[user] = Invitation(chatId: chat, userId: user, invitedBy: by, createdAt: now)
            t.invitedTo[user, default: []].insert(chat)
        case .leave(let user), .kick(let user, _):
            guard state.members[user] != nil else { throw StoreError.notFound("\(user) is not a member of \(chat)") }
            state.members[user] = nil
            t.chatsOfUser[user]?.remove(chat)
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
        if case .join(let user, _) = change { state.members[user]?.readSeq = message.seq }
        return message
    }

    // MARK: The chat log

    public func submit(_ change: LogChange, completion: @escaping @Sendable (Result<LogEffect, any Error>) -> Void) {
        let result = Result<LogEffect, any Error> {
            try locked { t in try LogRules.apply(change, in: Transaction(tables: t)) }
        }
        completion(result)
    }

    /// The tables as `LogRules` sees them, inside one locked call. Its checks
    /// come before its writes, and the writes cannot fail, so a refused
    /// change leaves nothing behind.
    private struct Transaction: LogTransaction {
        let tables: Tables

        func chatSeq(_ chat: ChatID) -> Seq? { tables.chats[chat]?.chat.seq }

        func member(_ chat: ChatID, _ user: UserID) -> Member? { tables.chats[chat]?.members[user] }

        func message(_ chat: ChatID, seq: Seq) -> Message? {
            guard let state = tables.chats[chat], let i = state.index[seq] else { return nil }
            return state.messages[i]
        }

        func message(_ chat: ChatID, sender: UserID, clientMsgId: String) -> Message? {
            guard let state = tables.chats[chat], let seq = state.clientIds[ClientKey(sender: sender, clientMsgId: clientMsgId)],
                  let i = state.index[seq] else { return nil }
            return state.messages[i]
        }

        func nextSeq(_ chat: ChatID) throws -> Seq {
            guard tables.chats[chat] != nil else { throw StoreError.notFound("no chat \(chat)") }
            return tables.chats[chat]!.nextSeq()
        }

        func insert(_ message: Message) throws {
            guard tables.chats[message.chatId] != nil else { throw StoreError.notFound("no chat \(message.chatId)") }
            tables.chats[message.chatId]!.insert(message)
            if let clientMsgId = message.clientMsgId {
                tables.chats[message.chatId]!.clientIds[ClientKey(sender: message.sender, clientMsgId: clientMsgId)] = message.seq
            }
        }

        func update(_ message: Message) throws {
            guard let i = tables.chats[message.chatId]?.index[message.seq] else {
                throw StoreError.notFound("no message \(message.chatId)/\(message.seq)")
            }
            tables.chats[message.chatId]!.messages[i] = message
        }

        func setReaction(_ chat: ChatID, seq: Seq, user: UserID, emoji: String, add: Bool) throws -> Bool {
            guard tables.chats[chat] != nil else { throw StoreError.notFound("no chat \(chat)") }
            var mine = tables.chats[chat]!.reactions[seq]?[user] ?? []
            let changed = add ? mine.insert(emoji).inserted : mine.remove(emoji) != nil
            if changed { tables.chats[chat]!.reactions[seq, default: [:]][user] = mine.isEmpty ? nil : mine }
            return changed
        }

        func setReadSeq(_ chat: ChatID, user: UserID, seq: Seq) throws {
            guard tables.chats[chat]?.members[user] != nil else {
                throw StoreError.notFound("\(user) is not a member of \(chat)")
            }
            tables.chats[chat]!.members[user]!.readSeq = seq
        }

        func unread(_ member: Member) -> Int { tables.chats[member.chatId]?.unread(member) ?? 0 }
    }

    // MARK: Reading

    public func message(_ chat: ChatID, seq: Seq) -> Message? {
        locked { t in
            guard let state = t.chats[chat], let i = state.index[seq] else { return nil }
            return state.messages[i]
        }
    }

    public func history(_ chat: ChatID, before: Seq?, after: Seq?, limit: Int) throws -> [Message] {
        let messages = try locked { t in try Self.state(chat, t).messages }
        guard limit > 0 else { return [] }
        let inRange = messages.filter { ($0.seq < (before ?? .max)) && ($0.seq > (after ?? .min)) }
        return Array(after != nil ? inRange.prefix(limit) : inRange.suffix(limit))
    }

    public func changes(_ chat: ChatID, after: Seq, limit: Int) throws -> [Message] {
        let messages = try locked { t in try Self.state(chat, t).messages }
        guard limit > 0 else { return [] }
        return Array(messages.filter { $0.updatedSeq > after }.sorted { $0.updatedSeq < $1.updatedSeq }.prefix(limit))
    }

    public func reactions(of user: UserID, in chat: ChatID, seqs: [Seq]) throws -> [Seq: [String]] {
        try locked { t in
            let state = try Self.state(chat, t)
            var result: [Seq: [String]] = [:]
            for seq in seqs {
                if let mine = state.reactions[seq]?[user], !mine.isEmpty { result[seq] = mine.sorted() }
            }
            return result
        }
    }

    public func unread(_ chat: ChatID, user: UserID) throws -> Int {
        try locked { t in
            let state = try Self.state(chat, t)
            guard let member = state.members[user] else { throw StoreError.notFound("\(user) is not a member of \(chat)") }
            return state.unread(member)
        }
    }

    public func ping() -> Bool { true }

    // MARK: Helpers

    private static func state(_ chat: ChatID, _ t: Tables) throws -> ChatState {
        guard let state = t.chats[chat] else { throw StoreError.notFound("no chat \(chat)") }
        return state
    }

    /// Runs `body` on `chat`'s state in place (taken out of the table so its
    /// arrays are not copied). `body` must throw before it changes anything.
    private static func modify<T>(_ chat: ChatID, _ t: Tables, _ body: (inout ChatState) throws -> T) throws -> T {
        guard var state = t.chats.removeValue(forKey: chat) else { throw StoreError.notFound("no chat \(chat)") }
        defer { t.chats[chat] = state }
        return try body(&state)
    }
}
