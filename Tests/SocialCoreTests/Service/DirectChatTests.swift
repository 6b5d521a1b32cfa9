import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// chat.open_direct and chats.list.
@Suite struct DirectChatTests {
    let fixture = ServiceFixture()

    @Test func openDirectCreatesOnceAndAnnouncesToBoth() async throws {
        let first: OpenDirectResult = try await fixture.call("ann", Op.chatOpenDirect, OpenDirectArgs(userId: "bob"))
        #expect(first.created)
        #expect(first.chat.kind == "direct")
        #expect(first.chat.members == ["ann", "bob"])
        #expect(first.chat.groupId == nil)
        #expect(first.chat.role == "member")

        let batch = try #require(fixture.bus.batches.only)
        #expect(batch.map(\.topic) == [.user("ann"), .user("bob")])
        #expect(batch.map(\.eventName) == [EventName.chatAdded, EventName.chatAdded])
        #expect(batch.map(\.subscription) == [.init(chat: first.chat.chatId, joined: true),
                                              .init(chat: first.chat.chatId, joined: true)])

        let again: OpenDirectResult = try await fixture.call("bob", Op.chatOpenDirect, OpenDirectArgs(userId: "ann"))
        #expect(!again.created)
        #expect(again.chat.chatId == first.chat.chatId)
        #expect(fixture.bus.batches.count == 1)
    }

    @Test func openDirectShowsTheExistingChatState() async throws {
        let chat = try await fixture.direct("ann", "bob")
        try await fixture.send("bob", chat, "hey")
        try await fixture.send("bob", chat, "you there?")
        let again: OpenDirectResult = try await fixture.call("ann", Op.chatOpenDirect, OpenDirectArgs(userId: "bob"))
        #expect(again.chat.unread == 2)
        #expect(again.chat.seq == 2)
        #expect(again.chat.lastMessage?.text == "you there?")
    }

    @Test func notWithYourself() async throws {
        let body = try await fixture.failure("ann", Op.chatOpenDirect, OpenDirectArgs(userId: "ann"))
        #expect(body.code == .invalidArgs)
        #expect(body.message.hasPrefix("user_id"))
        let empty = try await fixture.failure("ann", Op.chatOpenDirect, OpenDirectArgs(userId: ""))
        #expect(empty.code == .invalidArgs)
    }

    @Test func chatsListShowsEveryChatWithUnreadAndLastMessage() async throws {
        let group = try await fixture.group("ann", title: "Club", members: ["bob"])
        let direct = try await fixture.direct("bob", "ann")
        try await fixture.send("bob", group, "group hello")
        try await fixture.send("bob", direct, "direct hello")
        try await fixture.send("ann", direct, "hi back")

        let list: ChatsListResult = try await fixture.call("ann", Op.chatsList)
        let byId = Dictionary(uniqueKeysWithValues: list.chats.map { ($0.chatId, $0) })
        #expect(Set(byId.keys) == [group, direct])
        #expect(byId[group]?.kind == "group")
        #expect(byId[group]?.title == "Club")
        #expect(byId[group]?.role == "owner")
        #expect(byId[group]?.unread == 1)
        #expect(byId[group]?.lastMessage?.text == "group hello")
        #expect(byId[direct]?.unread == 1)
        #expect(byId[direct]?.lastMessage?.text == "hi back")
        #expect(byId[direct]?.members == ["ann", "bob"])

        let nobody: ChatsListResult = try await fixture.call("zed", Op.chatsList)
        #expect(nobody.chats.isEmpty)
    }
}
