import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// group.set_role, group.transfer, group.rename, group.info, groups.list.
@Suite struct GroupAdminTests {
    let fixture = ServiceFixture()

    private func roles(_ group: ChatID, as user: UserID = "ann") async throws -> [String: String] {
        let info: GroupInfoResult = try await fixture.call(user, Op.groupInfo, GroupRef(groupId: group))
        return Dictionary(uniqueKeysWithValues: info.members.map { ($0.userId, $0.role) })
    }

    @Test func theOwnerSetsRoles() async throws {
        let group = try await fixture.group("ann", members: ["bob", "cat"])
        fixture.bus.reset()
        let result: SystemMessageResult = try await fixture.call("ann", Op.groupSetRole,
                                                                 GroupSetRoleArgs(groupId: group, userId: "bob", role: "admin"))
        #expect(result.message.system == WireSystemEvent(action: "role_changed", userId: "bob", by: "ann", role: "admin"))
        #expect(fixture.eventNames(on: .chat(group)) == [EventName.member])
        #expect(try await roles(group) == ["ann": "owner", "bob": "admin", "cat": "member"])

        let byAdmin = try await fixture.failure("bob", Op.groupSetRole, GroupSetRoleArgs(groupId: group, userId: "cat", role: "admin"))
        #expect(byAdmin.code == .forbidden)
        let same = try await fixture.failure("ann", Op.groupSetRole, GroupSetRoleArgs(groupId: group, userId: "bob", role: "admin"))
        #expect(same.code == .conflict)
        let owner = try await fixture.failure("ann", Op.groupSetRole, GroupSetRoleArgs(groupId: group, userId: "ann", role: "member"))
        #expect(owner.code == .invalidArgs)
        #expect(owner.message.hasPrefix("user_id"))
        let notMember = try await fixture.failure("ann", Op.groupSetRole, GroupSetRoleArgs(groupId: group, userId: "zed", role: "admin"))
        #expect(notMember.code == .notFound)
    }

    @Test func setRoleAcceptsOnlyAdminOrMember() async throws {
        let group = try await fixture.group("ann", members: ["bob"])
        let body = try await fixture.failure("ann", Op.groupSetRole, GroupSetRoleArgs(groupId: group, userId: "bob", role: "owner"))
        #expect(body.code == .invalidArgs)
        #expect(body.message.hasPrefix("role"))
    }

    @Test func transferMakesTheOldOwnerAnAdmin() async throws {
        let group = try await fixture.group("ann", members: ["bob"])
        let denied = try await fixture.failure("bob", Op.groupTransfer, GroupUserArgs(groupId: group, userId: "ann"))
        #expect(denied.code == .forbidden)
        let toSelf = try await fixture.failure("ann", Op.groupTransfer, GroupUserArgs(groupId: group, userId: "ann"))
        #expect(toSelf.code == .invalidArgs)
        let outsider = try await fixture.failure("ann", Op.groupTransfer, GroupUserArgs(groupId: group, userId: "zed"))
        #expect(outsider.code == .notFound)

        fixture.bus.reset()
        let result: SystemMessageResult = try await fixture.call("ann", Op.groupTransfer, GroupUserArgs(groupId: group, userId: "bob"))
        #expect(result.message.system == WireSystemEvent(action: "transferred", userId: "bob", by: "ann"))
        #expect(fixture.eventNames(on: .chat(group)) == [EventName.member])
        #expect(try await roles(group) == ["ann": "admin", "bob": "owner"])
        let info: GroupInfoResult = try await fixture.call("ann", Op.groupInfo, GroupRef(groupId: group))
        #expect(info.group.owner == "bob")
        // Now ann may leave; bob may not while ann remains.
        let bobLeaves = try await fixture.failure("bob", Op.groupLeave, GroupRef(groupId: group))
        #expect(bobLeaves.code == .conflict)
        let _: SystemMessageResult = try await fixture.call("ann", Op.groupLeave, GroupRef(groupId: group))
    }

    @Test func adminsRenameAndTheGroupHearsOfIt() async throws {
        let group = try await fixture.group("ann", members: ["bob"])
        let denied = try await fixture.failure("bob", Op.groupRename, GroupRenameArgs(groupId: group, title: "Mine"))
        #expect(denied.code == .forbidden)
        let empty = try await fixture.failure("ann", Op.groupRename, GroupRenameArgs(groupId: group, title: ""))
        #expect(empty.code == .invalidArgs)

        fixture.bus.reset()
        let result: SystemMessageResult = try await fixture.call("ann", Op.groupRename, GroupRenameArgs(groupId: group, title: "Sprinters"))
        #expect(result.message.system == WireSystemEvent(action: "renamed", by: "ann", title: "Sprinters"))
        let events = fixture.bus.events
        #expect(events.map(\.topic) == [.chat(group)])
        #expect(events.map(\.eventName) == [EventName.groupUpdated])
        #expect(try events[0].payload(SystemChangeEvent.self).message == result.message)
        let info: GroupInfoResult = try await fixture.call("bob", Op.groupInfo, GroupRef(groupId: group))
        #expect(info.group.title == "Sprinters")
    }

    @Test func infoIsForMembersInviteesAndOpenGroups() async throws {
        let closed = try await fixture.group("ann", members: ["bob"])
        let _: SystemMessageResult = try await fixture.call("ann", Op.groupInvite, GroupUserArgs(groupId: closed, userId: "cat"))

        let member: GroupInfoResult = try await fixture.call("bob", Op.groupInfo, GroupRef(groupId: closed))
        #expect(member.group.role == "member")
        #expect(member.members.map(\.userId) == ["ann", "bob"])
        #expect(member.group.lastMessage?.system?.action == "invited")

        let invitee: GroupInfoResult = try await fixture.call("cat", Op.groupInfo, GroupRef(groupId: closed))
        #expect(invitee.group.role == "invited")
        #expect(invitee.group.lastMessage == nil)

        let outsider = try await fixture.failure("zed", Op.groupInfo, GroupRef(groupId: closed))
        #expect(outsider.code == .forbidden)

        let open = try await fixture.group("ann", open: true)
        let visitor: GroupInfoResult = try await fixture.call("zed", Op.groupInfo, GroupRef(groupId: open))
        #expect(visitor.group.role == "none")
        #expect(visitor.members.map(\.userId) == ["ann"])

        let missing = try await fixture.failure("ann", Op.groupInfo, GroupRef(groupId: "g_missing"))
        #expect(missing.code == .notFound)
    }

    @Test func groupOpsOnADirectChatFindNoGroup() async throws {
        let direct = try await fixture.direct("ann", "bob")
        let body = try await fixture.failure("ann", Op.groupInfo, GroupRef(groupId: direct))
        #expect(body.code == .notFound)
        let leave = try await fixture.failure("ann", Op.groupLeave, GroupRef(groupId: direct))
        #expect(leave.code == .notFound)
    }

    @Test func groupIdsAreChecked() async throws {
        for id in ["", String(repeating: "g", count: 129)] {
            let body = try await fixture.failure("ann", Op.groupJoin, GroupRef(groupId: id))
            #expect(body.code == .invalidArgs)
            #expect(body.message.hasPrefix("group_id"))
        }
    }

    @Test func groupsListHasMyGroupsAndMyInvitations() async throws {
        let mine = try await fixture.group("ann", title: "Mine")
        let theirs = try await fixture.group("bob", title: "Theirs")
        let _: SystemMessageResult = try await fixture.call("bob", Op.groupInvite, GroupUserArgs(groupId: theirs, userId: "ann"))
        _ = try await fixture.direct("ann", "cat")

        let list: GroupsListResult = try await fixture.call("ann", Op.groupsList)
        #expect(list.groups.map(\.chatId) == [mine])
        #expect(list.groups.first?.lastMessage?.system?.action == "created")
        #expect(list.invitations == [WireInvitation(groupId: theirs, title: "Theirs", invitedBy: "bob", ts: fixture.clock.now)])
    }
}
