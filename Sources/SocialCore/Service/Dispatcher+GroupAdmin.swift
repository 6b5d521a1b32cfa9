import SocialProtocol

// Group administration and lookups: group.set_role, group.transfer,
// group.rename, group.info, groups.list.

extension Dispatcher {
    /// `group.set_role`: the owner makes a member an admin or an admin a member.
    /// Publishes `member` to the group.
    func setRole(_ args: GroupSetRoleArgs, _ caller: Caller) async throws -> SystemMessageResult {
        let target = try limits.otherUser(args.userId, caller: caller.userId,
                                          problem: "cannot change your own role (the owner's moves with group.transfer)")
        let role: Role
        switch args.role {
        case Role.admin.rawValue: role = .admin
        case Role.member.rawValue: role = .member
        default: throw ServiceError.invalidArgs("role", "must be \"admin\" or \"member\" (ownership moves with group.transfer)")
        }
        let (group, me) = try await requireGroupMember(args.groupId, caller.userId)
        guard me.role == .owner else { throw ServiceError.forbidden("only the owner sets roles") }
        let them = try await requireTarget(group.id, target)
        // Only when ownership moved to the target since `me` was read.
        guard them.role != .owner else {
            throw ServiceError.conflict("the owner's role changes only with group.transfer")
        }
        guard them.role != role else { throw ServiceError.conflict("\(target) is already \(role.rawValue)") }
        let message = try await commit(.setRole(user: target, role: role, by: caller.userId), to: group.id) { [self] in
            [chatEvent(group.id, EventName.member, SystemChangeEvent(message: $0.wire))]
        }
        return SystemMessageResult(message: message.wire)
    }

    /// `group.transfer`: the owner hands ownership to a member and becomes an admin.
    /// Publishes `member` to the group.
    func transfer(_ args: GroupUserArgs, _ caller: Caller) async throws -> SystemMessageResult {
        let target = try limits.otherUser(args.userId, caller: caller.userId,
                                          problem: "cannot transfer ownership to yourself")
        let (group, me) = try await requireGroupMember(args.groupId, caller.userId)
        guard me.role == .owner else { throw ServiceError.forbidden("only the owner transfers ownership") }
        _ = try await requireTarget(group.id, target)
        let message = try await commit(.transfer(to: target, by: caller.userId), to: group.id) { [self] in
            [chatEvent(group.id, EventName.member, SystemChangeEvent(message: $0.wire))]
        }
        return SystemMessageResult(message: message.wire)
    }

    /// `group.rename`: admins and the owner set the title.
    /// Publishes `group.updated` to the group.
    func rename(_ args: GroupRenameArgs, _ caller: Caller) async throws -> SystemMessageResult {
        let title = try limits.title(args.title)
        let (group, me) = try await requireGroupMember(args.groupId, caller.userId)
        guard me.role >= .admin else { throw ServiceError.forbidden("only admins and the owner rename a group") }
        let message = try await commit(.rename(title: title, by: caller.userId), to: group.id) { [self] in
            [chatEvent(group.id, EventName.groupUpdated, SystemChangeEvent(message: $0.wire))]
        }
        return SystemMessageResult(message: message.wire)
    }

    /// `group.info`: the group and its members, for members, invited users
    /// and (open groups) anyone. Non-members see no last message, and the
    /// `role` `invited` or `none`.
    func groupInfo(_ args: GroupRef, _ caller: Caller) async throws -> GroupInfoResult {
        let group = try await requireGroup(args.groupId)
        let summary: WireChat
        if let me = try await store.member(group.id, caller.userId) {
            let unread = try await store.unread(group.id, user: caller.userId)
            summary = group.wire(role: me.role.rawValue, readSeq: me.readSeq, unread: unread,
                                 lastMessage: try await lastMessage(of: group.id))
        } else if try await store.invitation(group.id, caller.userId) != nil {
            summary = group.wire(role: ViewerRole.invited, readSeq: 0, unread: 0, lastMessage: nil)
        } else if group.isOpen {
            summary = group.wire(role: ViewerRole.none, readSeq: 0, unread: 0, lastMessage: nil)
        } else {
            throw ServiceError.forbidden("group \(group.id) is visible to its members and invited users only")
        }
        let members = try await store.members(group.id)
        return GroupInfoResult(group: summary, members: members.map(\.wire))
    }

    /// `groups.list`: the caller's groups and pending invitations.
    func groupsList(_ caller: Caller) async throws -> GroupsListResult {
        let memberships = try await store.memberships(of: caller.userId).filter { $0.chat.kind == .group }
        var groups: [WireChat] = []
        groups.reserveCapacity(memberships.count)
        for membership in memberships {
            groups.append(membership.wire(lastMessage: try await lastMessage(of: membership.chat.id)))
        }
        var invitations: [WireInvitation] = []
        for invitation in try await store.invitations(of: caller.userId) {
            let title = try await store.chat(invitation.chatId)?.title
            invitations.append(invitation.wire(title: title))
        }
        return GroupsListResult(groups: groups, invitations: invitations)
    }
}
