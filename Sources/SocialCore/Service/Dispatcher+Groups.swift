import SocialProtocol

// Group membership ops: group.create, group.invite, group.join, group.leave, group.kick.

extension Dispatcher {
    /// `group.create`: the caller becomes the owner of a new group.
    /// Publishes `chat.added` to the caller's devices; the calling session
    /// follows the group before it gets the reply.
    func createGroup(_ args: GroupCreateArgs, _ caller: Caller, _ effects: inout SessionEffects) async throws -> GroupResult {
        let title = try limits.title(args.title)
        let (chat, created) = try await store.createGroup(id: ids(.group), title: title, isOpen: args.open ?? false,
                                                          owner: caller.userId, now: clock())
        // The new owner has read nothing, but the only message is the system
        // one, which never counts as unread.
        let summary = chat.wire(role: Role.owner.rawValue, readSeq: 0, unread: 0, lastMessage: created)
        publish(chatAdded(summary, to: caller.userId))
        effects.subscribe.append(.chat(chat.id))
        return GroupResult(group: summary)
    }

    /// `group.invite`: admins and the owner invite a user, while the group
    /// has room (`maxGroupMembers`). Members do not invite: an open group
    /// needs no invitation, an invite-only one is the admins' to fill.
    /// Publishes `invitation` to the invitee, then `member` to the group.
    func invite(_ args: GroupUserArgs, _ caller: Caller) async throws -> SystemMessageResult {
        let target = try limits.id(args.userId, field: "user_id")
        let (group, me) = try await requireGroupMember(args.groupId, caller.userId)
        guard me.role >= .admin else { throw ServiceError.forbidden("only admins and the owner invite to a group") }
        try await requireRoom(in: group)
        let message = try await commit(.invite(user: target, by: caller.userId), to: group.id) { [self] message in
            let invitation = WireInvitation(groupId: group.id, title: group.title, invitedBy: caller.userId,
                                            ts: message.createdAt)
            return [event(.user(target), EventName.invitation, InvitationEvent(invitation: invitation)),
                    chatEvent(group.id, EventName.member, SystemChangeEvent(message: message.wire))]
        }
        return SystemMessageResult(message: message.wire)
    }

    /// `group.join`: joins an open group, or one the caller is invited to, up
    /// to `maxGroupMembers`. The new member starts with the history before
    /// their join marked read. Publishes `chat.added` to the caller's devices,
    /// then `member` to the group.
    func join(_ args: GroupRef, _ caller: Caller) async throws -> GroupResult {
        let group = try await requireGroup(args.groupId)
        guard try await store.member(group.id, caller.userId) == nil else {
            throw ServiceError.conflict("already a member of group \(group.id)")
        }
        if caller.kind == .bot {
            // A bot joins only where an admin invited it, and only so many chats.
            guard try await store.invitation(group.id, caller.userId) != nil else {
                throw ServiceError.forbidden("a bot joins only groups it is invited to")
            }
            let joined = try await store.memberships(of: caller.userId).count
            guard joined < limits.botMaxChats else {
                throw ServiceError.conflict("this bot is a member of \(joined) chats, the most allowed (--bot-max-chats)")
            }
        } else if !group.isOpen {
            guard try await store.invitation(group.id, caller.userId) != nil else {
                throw ServiceError.forbidden("group \(group.id) is invite-only and you are not invited")
            }
        }
        try await requireRoom(in: group)
        // The store sets the new member's read marker at the join: the
        // history before it counts as read, and nothing after it exists yet.
        // `chat.added` (which subscribes the user's sessions) goes out before
        // `member` and before any later change of the chat.
        let makeSummary: @Sendable (Message) -> WireChat = { message in
            var chat = group
            chat.seq = max(chat.seq, message.seq)
            return chat.wire(role: Role.member.rawValue, readSeq: message.seq, unread: 0, lastMessage: message)
        }
        let message = try await commit(.join(user: caller.userId, role: .member), to: group.id) { [self] message in
            [chatAdded(makeSummary(message), to: caller.userId),
             chatEvent(group.id, EventName.member, SystemChangeEvent(message: message.wire))]
        }
        return GroupResult(group: makeSummary(message))
    }

    /// `group.leave`: the owner may leave only as the last member.
    /// Publishes `chat.removed` to the caller's devices, a departure to those
    /// watching the caller's presence (`presenceDeparture`), then `member` to the group.
    func leave(_ args: GroupRef, _ caller: Caller) async throws -> SystemMessageResult {
        let (group, me) = try await requireGroupMember(args.groupId, caller.userId)
        if me.role == .owner {
            let others = try await store.members(group.id).count - 1
            guard others == 0 else {
                throw ServiceError.conflict("the owner cannot leave while \(others) other members remain: transfer ownership first")
            }
        }
        let message = try await commit(.leave(user: caller.userId), to: group.id) { [self] message in
            [chatRemoved(group.id, reason: "left", from: caller.userId),
             presenceDeparture(caller.userId, from: group.id),
             chatEvent(group.id, EventName.member, SystemChangeEvent(message: message.wire))]
        }
        return SystemMessageResult(message: message.wire)
    }

    /// `group.kick`: admins remove members; the owner removes anyone but
    /// themself; nobody removes the owner. Removing oneself is `group.leave`.
    /// Publishes `chat.removed` to the removed user, a departure to those
    /// watching the removed user's presence, then `member` to the group.
    func kick(_ args: GroupUserArgs, _ caller: Caller) async throws -> SystemMessageResult {
        let target = try limits.otherUser(args.userId, caller: caller.userId,
                                          problem: "cannot remove yourself; use group.leave")
        let (group, me) = try await requireGroupMember(args.groupId, caller.userId)
        guard me.role >= .admin else { throw ServiceError.forbidden("only admins and the owner remove members") }
        let them = try await requireTarget(group.id, target)
        guard them.role != .owner else { throw ServiceError.forbidden("nobody removes the owner") }
        guard me.role == .owner || them.role == .member else {
            throw ServiceError.forbidden("admins remove only members; ask the owner")
        }
        let message = try await commit(.kick(user: target, by: caller.userId), to: group.id) { [self] message in
            [chatRemoved(group.id, reason: "kicked", from: target),
             presenceDeparture(target, from: group.id),
             chatEvent(group.id, EventName.member, SystemChangeEvent(message: message.wire))]
        }
        return SystemMessageResult(message: message.wire)
    }

    /// `conflict` when `group` has `maxGroupMembers` members. Not atomic with
    /// the change that follows: concurrent joins can overshoot the limit by
    /// the number of joins in flight.
    private func requireRoom(in group: Chat) async throws {
        let count = try await store.members(group.id).count
        guard count < limits.maxGroupMembers else {
            throw ServiceError.conflict("group \(group.id) is full (\(limits.maxGroupMembers) members)")
        }
    }
}
