import SocialCore

/// Membership and group changes: each is one change of the chat's log (see
/// `ChatLog`), checked against the chat's state before it claims a seq.
extension MongoChatStore {
    public func apply(_ change: MembershipChange, to chat: ChatID, now: Int64) async throws -> Message {
        try await run { log in
            try log.commit(chat) { current, seq in
                guard current.kind == .group else { throw StoreError.conflict("chat \(chat) is not a group") }
                var (writes, chatFields) = try Self.plan(change, in: current, now: now, log)
                let message = Message.system(change.systemEvent, chat: chat, seq: seq, actor: change.actor, now: now)
                writes.append(try .insert(message))
                return .change(writes: writes, chatFields: chatFields, result: message)
            }
        }
    }

    /// The writes (and chat fields) of `change`, after its checks.
    /// Threads: a worker thread, inside `ChatLog.commit`.
    private static func plan(_ change: MembershipChange, in chat: Chat, now: Int64,
                             _ log: ChatLog) throws -> ([FencedWrite], BSONDocument) {
        let id = chat.id
        switch change {
        case .join(let user, let role):
            guard try log.member(id, user) == nil else { throw StoreError.conflict("\(user) is a member of \(id)") }
            let member = Member(chatId: id, userId: user, role: role, readSeq: 0, joinedAt: now)
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
