import SocialCore

/// Membership and group changes: each is one change of the chat's log (see
/// `ChatLog`), checked against the chat's state before it claims a seq.
extension MongoChatStore {
    /// Applies `change` and appends its system message in the chat's lane
    /// (one order with the chat's log changes); `completion` runs on a worker
    /// once it is acknowledged.
    public func submit(_ change: MembershipChange, to chat: ChatID, now: Int64,
                       completion: @escaping @Sendable (Result<Message, any Error>) -> Void) {
        inLane(chat, { (log: ChatLog) throws -> Message in
            try log.commit(chat) { (current: Chat, seq: Seq) throws -> ChatLog.Plan<Message> in
                guard current.kind == .group else { throw StoreError.conflict("chat \(chat) is not a group") }
                var (writes, chatFields) = try Self.plan(change, in: current, seq: seq, now: now, log)
                let message = Message.system(change.systemEvent, chat: chat, seq: seq, actor: change.actor, now: now)
                writes.append(try .insert(message))
                return .change(writes: writes, chatFields: chatFields, result: message)
            }
        }, completion: completion)
    }

    /// The writes (and chat fields) of `change`, after its checks.
    /// Threads: a worker thread, inside `ChatLog.commit`.
    private static func plan(_ change: MembershipChange, in chat: Chat, seq: Seq, now: Int64,
                             _ log: ChatLog) throws -> ([FencedWrite], BSONDocument) {
        let id = chat.id
        switch change {
        case .join(let user, let role):
            guard try log.member(id, user) == nil else { throw StoreError.conflict("\(user) is a member of \(id)") }
            // The new member has read the history up to their own join (`seq`).
            let member = Member(chatId: id, userId: user, role: role, readSeq: seq, joinedAt: now)
            return ([.join(id, user, ChatDocuments.memberFields(member)), .uninvite(id, user)], [:])
        case .invite(let user, let by):
            guard try log.member(id, user) == nil else { throw StoreError.conflict("\(user) is a member of \(id)") }
            guard try log.invitation(id, user) == nil else { throw StoreError.conflict("\(user) is invited to \(id)") }
            let invitation = Invitation(chatId: id, userId: user, invitedBy: by, createdAt: now)
            return ([.invite(id, user, ChatDocuments.invitationFields(invitation))], [:])
        case .leave(let user), .kick(let user, _):
            _ = try log.requireMember(id, user)
            return ([.member(id, user, ["on": false])], [:])
        case .setRole(let user, let role, _):
            _ = try log.requireMember(id, user)
            return ([.member(id, user, ["role": .string(role.rawValue)])], [:])
        case .transfer(let to, _):
            _ = try log.requireMember(id, to)
            var writes: [FencedWrite] = []
            if let previous = chat.owner, previous != to {
                writes.append(.member(id, previous, ["role": .string(Role.admin.rawValue)]))
            }
            writes.append(.member(id, to, ["role": .string(Role.owner.rawValue)]))
            return (writes, ["owner": .string(to)])
        case .rename(let title, _):
            return ([], ["title": .string(title)])
        }
    }
}
