import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// `Dispatcher.presenceRevoked`: which watches a membership change ends.
@Suite struct PresenceRevocationTests {
    let fixture = ServiceFixture()

    @Test func usersWhoStillShareAChatStayVisible() async throws {
        let group = try await fixture.group("ann", members: ["bob", "cat"])
        #expect(try await fixture.dispatcher.presenceRevoked(["bob", "cat"], for: "ann") == [])
        let _: SystemMessageResult = try await fixture.call("bob", Op.groupLeave, GroupRef(groupId: group))
        #expect(try await fixture.dispatcher.presenceRevoked(["bob", "cat"], for: "ann") == ["bob"])
        #expect(try await fixture.dispatcher.presenceRevoked(["ann", "cat"], for: "bob") == ["ann", "cat"])
    }

    @Test func anotherSharedChatKeepsTheWatch() async throws {
        let first = try await fixture.group("ann", members: ["bob"])
        _ = try await fixture.group("ann", title: "Second", members: ["bob"])
        let _: SystemMessageResult = try await fixture.call("ann", Op.groupKick, GroupUserArgs(groupId: first, userId: "bob"))
        #expect(try await fixture.dispatcher.presenceRevoked(["bob"], for: "ann") == [])
        let _: OpenDirectResult = try await fixture.call("cat", Op.chatOpenDirect, OpenDirectArgs(userId: "dan"))
        #expect(try await fixture.dispatcher.presenceRevoked(["dan", "ann"], for: "cat") == ["ann"])
    }

    @Test func aUserAlwaysSeesThemself() async throws {
        #expect(try await fixture.dispatcher.presenceRevoked(["ann"], for: "ann") == [])
    }

    @Test func aStoreFailureThrows() async throws {
        _ = try await fixture.group("ann", members: ["bob"])
        fixture.faults.fail(with: StoreError.unavailable("down"))
        await #expect(throws: (any Error).self) { try await fixture.dispatcher.presenceRevoked(["bob"], for: "ann") }
    }
}
