import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// group.create, group.invite, group.join, group.leave, group.kick: rules and events.
@Suite struct GroupMembershipTests {
    let fixture = ServiceFixture()

    @Test func createMakesTheCallerOwnerAndAnnouncesTheChat() async throws {
        let result: GroupResult = try await fixture.call("ann", Op.groupCreate,
                                                         GroupCreateArgs(title: "  Morning runs ", open: true))
        let group = result.group
        #expect(group.kind == "group")
        #expect(group.groupId == group.chatId)
        #expect(group.title == "Morning runs")
        #expect(group.open == true)
        #expect(group.owner == "ann")
        #expect(group.role == "owner")
        #expect(group.seq == 1)
        #expect(group.lastMessage?.system?.action == "created")

        let events = fixture.bus.events
        #expect(events.count == 1)
        #expect(events.first?.topic == .user("ann"))
        #expect(events.first?.eventName == EventName.chatAdded)
        #expect(events.first?.subscription == .init(chat: group.chatId, joined: true))
        #expect(try events.first?.payload(ChatAddedEvent.self).chat == group)
    }

    @Test func createChecksTheTitle() async throws {
        let empty = try await fixture.failure("ann", Op.groupCreate, GroupCreateArgs(title: "   "))
        #expect(empty.code == .invalidArgs)
        #expect(empty.message.hasPrefix("title"))
        let long = try await fixture.failure("ann", Op.groupCreate, GroupCreateArgs(title: String(repeating: "é", count: 201)))
        #expect(long.code == .tooLarge)
        let control = try await fixture.failure("ann", Op.groupCreate, GroupCreateArgs(title: "Run\u{7} club"))
        #expect(control.code == .invalidArgs)
        let ok: GroupResult = try await fixture.call("ann", Op.groupCreate, GroupCreateArgs(title: String(repeating: "é", count: 200)))
        #expect(ok.group.title?.count == 200)
    }

    /// Titles are measured in code points, like JSON Schema's `maxLength`:
    /// "e" + a combining accent is one character but two code points.
    @Test func titleLengthCountsCodePoints() async throws {
        let accented = "e\u{301}"
        let long = try await fixture.failure("ann", Op.groupCreate, GroupCreateArgs(title: String(repeating: accented, count: 101)))
        #expect(long.code == .tooLarge)
        let ok: GroupResult = try await fixture.call("ann", Op.groupCreate, GroupCreateArgs(title: String(repeating: accented, count: 100)))
        #expect(ok.group.title?.unicodeScalars.count == 200)
    }

    @Test func inviteSendsTheInvitationThenTheMemberEvent() async throws {
        let group = try await fixture.group("ann", title: "Lifters")
        fixture.bus.reset()
        let result: SystemMessageResult = try await fixture.call("ann", Op.groupInvite,
                                                                 GroupUserArgs(groupId: group, userId: "bob"))
        #expect(result.message.system == WireSystemEvent(action: "invited", userId: "bob", by: "ann"))

        let batch = try #require(fixture.bus.batches.only)
        #expect(batch.map(\.topic) == [.user("bob"), .chat(group)])
        #expect(batch.map(\.eventName) == [EventName.invitation, EventName.member])
        let invitation = try batch[0].payload(InvitationEvent.self).invitation
        #expect(invitation.groupId == group)
        #expect(invitation.title == "Lifters")
        #expect(invitation.invitedBy == "ann")
        #expect(try batch[1].payload(SystemChangeEvent.self).message == result.message)
    }

    @Test func onlyAdminsAndTheOwnerInvite() async throws {
        let group = try await fixture.group("ann", members: ["bob"])
        let denied = try await fixture.failure("bob", Op.groupInvite, GroupUserArgs(groupId: group, userId: "cat"))
        #expect(denied.code == .forbidden)
        let outsider = try await fixture.failure("zed", Op.groupInvite, GroupUserArgs(groupId: group, userId: "cat"))
        #expect(outsider.code == .forbidden)
        let _: SystemMessageResult = try await fixture.call("ann", Op.groupSetRole,
                                                            GroupSetRoleArgs(groupId: group, userId: "bob", role: "admin"))
        let _: SystemMessageResult = try await fixture.call("bob", Op.groupInvite, GroupUserArgs(groupId: group, userId: "cat"))
        let twice = try await fixture.failure("ann", Op.groupInvite, GroupUserArgs(groupId: group, userId: "cat"))
        #expect(twice.code == .conflict)
    }

    @Test func joinNeedsAnInvitationUnlessOpen() async throws {
        let closed = try await fixture.group("ann", open: false)
        let denied = try await fixture.failure("bob", Op.groupJoin, GroupRef(groupId: closed))
        #expect(denied.code == .forbidden)

        let open = try await fixture.group("ann", open: true)
        let joined: GroupResult = try await fixture.call("bob", Op.groupJoin, GroupRef(groupId: open))
        #expect(joined.group.role == "member")

        let again = try await fixture.failure("bob", Op.groupJoin, GroupRef(groupId: open))
        #expect(again.code == .conflict)
        let missing = try await fixture.failure("bob", Op.groupJoin, GroupRef(groupId: "g_nope"))
        #expect(missing.code == .notFound)
    }

    @Test func joinAnnouncesToTheUserThenTheGroupAndStartsWithHistoryRead() async throws {
        let group = try await fixture.group("ann", open: true)
        for i in 1...3 { try await fixture.send("ann", group, "before \(i)") }
        fixture.bus.reset()

        let joined: GroupResult = try await fixture.call("bob", Op.groupJoin, GroupRef(groupId: group))
        #expect(joined.group.unread == 0)
        #expect(joined.group.seq == 5)
        #expect(joined.group.readSeq == 5)
        #expect(joined.group.lastMessage?.system == WireSystemEvent(action: "joined", userId: "bob", role: "member"))

        let batch = try #require(fixture.bus.batches.only)
        #expect(batch.map(\.topic) == [.user("bob"), .chat(group)])
        #expect(batch.map(\.eventName) == [EventName.chatAdded, EventName.member])
        #expect(batch[0].subscription == .init(chat: group, joined: true))
        #expect(try batch[0].payload(ChatAddedEvent.self).chat == joined.group)
    }

    @Test func joinRemovesTheInvitation() async throws {
        let group = try await fixture.group("ann", members: ["bob"])
        let list: GroupsListResult = try await fixture.call("bob", Op.groupsList)
        #expect(list.invitations.isEmpty)
        #expect(list.groups.map(\.chatId) == [group])
    }

    @Test func joinAndInviteStopAtMaxGroupMembers() async throws {
        var limits = ChatLimits()
        limits.maxGroupMembers = 2
        let fixture = ServiceFixture(limits: limits)
        let group = try await fixture.group("ann", open: true, members: [])
        let _: GroupResult = try await fixture.call("bob", Op.groupJoin, GroupRef(groupId: group))
        let full = try await fixture.failure("cat", Op.groupJoin, GroupRef(groupId: group))
        #expect(full.code == .conflict)
        #expect(full.message.contains("full"))
        let invite = try await fixture.failure("ann", Op.groupInvite, GroupUserArgs(groupId: group, userId: "cat"))
        #expect(invite.code == .conflict)
        #expect(try await fixture.store.members(group).count == 2)
        #expect(try await fixture.store.invitations(of: "cat").isEmpty)
    }

    @Test func leaveUnsubscribesTheUserThenTellsTheGroup() async throws {
        let group = try await fixture.group("ann", members: ["bob"])
        fixture.bus.reset()
        let result: SystemMessageResult = try await fixture.call("bob", Op.groupLeave, GroupRef(groupId: group))
        #expect(result.message.system?.action == "left")
        let batch = try #require(fixture.bus.batches.only)
        #expect(batch.map(\.topic) == [.user("bob"), .presence("bob"), .chat(group)])
        #expect(batch.map(\.eventName) == [EventName.chatRemoved, nil, EventName.member])
        #expect(batch[0].subscription == .init(chat: group, joined: false))
        // Bob's watchers, on every node, check whether they may still see him.
        #expect(batch[1].subscription == .init(chat: group, joined: false))
        #expect(batch[1].frame.isEmpty)
        #expect(try batch[0].payload(ChatRemovedEvent.self) == ChatRemovedEvent(chatId: group, reason: "left"))
        #expect(try await fixture.store.member(group, "bob") == nil)

        let again = try await fixture.failure("bob", Op.groupLeave, GroupRef(groupId: group))
        #expect(again.code == .forbidden)
    }

    @Test func theOwnerLeavesOnlyLast() async throws {
        let group = try await fixture.group("ann", members: ["bob"])
        let denied = try await fixture.failure("ann", Op.groupLeave, GroupRef(groupId: group))
        #expect(denied.code == .conflict)
        #expect(denied.message.contains("transfer"))
        let _: SystemMessageResult = try await fixture.call("bob", Op.groupLeave, GroupRef(groupId: group))
        let _: SystemMessageResult = try await fixture.call("ann", Op.groupLeave, GroupRef(groupId: group))
        #expect(try await fixture.store.members(group).isEmpty)
    }

    @Test func kickRulesFollowRoles() async throws {
        let group = try await fixture.group("ann", members: ["adm", "adm2", "bob", "cat"])
        for admin in ["adm", "adm2"] {
            let _: SystemMessageResult = try await fixture.call("ann", Op.groupSetRole,
                                                                GroupSetRoleArgs(groupId: group, userId: admin, role: "admin"))
        }
        func kick(_ by: UserID, _ user: UserID) async throws -> ErrorCode? {
            do {
                let _: SystemMessageResult = try await fixture.call(by, Op.groupKick, GroupUserArgs(groupId: group, userId: user))
                return nil
            } catch let error as ServiceFixture.ReplyError {
                return error.body.code
            }
        }
        #expect(try await kick("bob", "cat") == .forbidden)      // members kick nobody
        #expect(try await kick("adm", "adm2") == .forbidden)     // admins kick only members
        #expect(try await kick("adm", "ann") == .forbidden)      // nobody kicks the owner
        #expect(try await kick("ann", "ann") == .invalidArgs)    // oneself: that is group.leave
        #expect(try await kick("bob", "bob") == .invalidArgs)
        #expect(try await kick("adm", "nobody") == .notFound)
        #expect(try await kick("zed", "bob") == .forbidden)      // outsiders
        #expect(try await kick("adm", "bob") == nil)             // admin kicks a member
        #expect(try await kick("ann", "adm2") == nil)            // owner kicks an admin
        let left = try await fixture.store.members(group).map(\.userId)
        #expect(left == ["adm", "ann", "cat"])
    }

    @Test func kickUnsubscribesTheKickedUser() async throws {
        let group = try await fixture.group("ann", members: ["bob"])
        fixture.bus.reset()
        let result: SystemMessageResult = try await fixture.call("ann", Op.groupKick, GroupUserArgs(groupId: group, userId: "bob"))
        #expect(result.message.system == WireSystemEvent(action: "kicked", userId: "bob", by: "ann"))
        let batch = try #require(fixture.bus.batches.only)
        #expect(batch.map(\.topic) == [.user("bob"), .presence("bob"), .chat(group)])
        #expect(batch[0].subscription == .init(chat: group, joined: false))
        #expect(batch[1].subscription == .init(chat: group, joined: false))
        #expect(try batch[0].payload(ChatRemovedEvent.self).reason == "kicked")
        let denied = try await fixture.failure("bob", Op.chatSend, SendArgs(chatId: group, text: "let me back"))
        #expect(denied.code == .forbidden)
    }
}

extension Array {
    /// The one element, or nil when there are none or several.
    var only: Element? { count == 1 ? first : nil }
}
