import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// chat.edit, chat.delete, chat.react: who may, what is stored, what is published.
@Suite struct MessageChangeTests {
    let fixture = ServiceFixture()

    @Test func theAuthorEdits() async throws {
        let chat = try await fixture.group("ann", members: ["bob"])
        let message = try await fixture.send("bob", chat, "10km")
        fixture.clock.advance(by: 500)
        fixture.bus.reset()
        let result: MessageResult = try await fixture.call("bob", Op.chatEdit, EditArgs(chatId: chat, seq: message.seq, text: "12km"))
        #expect(result.message.text == "12km")
        #expect(result.message.seq == message.seq)
        #expect(result.message.updatedSeq > message.updatedSeq)
        #expect(result.message.editedTs == fixture.clock.now)
        let events = fixture.bus.events
        #expect(events.map(\.topic) == [.chat(chat)])
        #expect(events.map(\.eventName) == [EventName.messageEdited])
        #expect(try events[0].payload(MessageEvent.self).message == result.message)
    }

    @Test func editDenials() async throws {
        let chat = try await fixture.group("ann", members: ["bob"])
        let message = try await fixture.send("bob", chat, "mine")
        let byOwner = try await fixture.failure("ann", Op.chatEdit, EditArgs(chatId: chat, seq: message.seq, text: "x"))
        #expect(byOwner.code == .forbidden)
        let system = try await fixture.failure("ann", Op.chatEdit, EditArgs(chatId: chat, seq: 1, text: "x"))
        #expect(system.code == .forbidden)
        let missing = try await fixture.failure("bob", Op.chatEdit, EditArgs(chatId: chat, seq: 999, text: "x"))
        #expect(missing.code == .notFound)
        let blank = try await fixture.failure("bob", Op.chatEdit, EditArgs(chatId: chat, seq: message.seq, text: " "))
        #expect(blank.code == .invalidArgs)
        let _: SystemMessageResult = try await fixture.call("bob", Op.groupLeave, GroupRef(groupId: chat))
        let formerMember = try await fixture.failure("bob", Op.chatEdit, EditArgs(chatId: chat, seq: message.seq, text: "x"))
        #expect(formerMember.code == .forbidden)
    }

    @Test func deletedMessagesCannotBeEdited() async throws {
        let chat = try await fixture.direct("ann", "bob")
        let message = try await fixture.send("ann", chat, "oops")
        let _: MessageResult = try await fixture.call("ann", Op.chatDelete, ChatSeqArgs(chatId: chat, seq: message.seq))
        let body = try await fixture.failure("ann", Op.chatEdit, EditArgs(chatId: chat, seq: message.seq, text: "fixed"))
        #expect(body.code == .conflict)
        let twice = try await fixture.failure("ann", Op.chatDelete, ChatSeqArgs(chatId: chat, seq: message.seq))
        #expect(twice.code == .conflict)
    }

    @Test func deleteLeavesATombstoneAndTellsTheChat() async throws {
        let chat = try await fixture.direct("ann", "bob")
        let message: SendResult = try await fixture.call("ann", Op.chatSend, SendArgs(
            chatId: chat, text: "secret", attachments: [WireAttachment(url: "https://x.example/a.png")]))
        fixture.bus.reset()
        let result: MessageResult = try await fixture.call("ann", Op.chatDelete, ChatSeqArgs(chatId: chat, seq: message.message.seq))
        #expect(result.message.deleted)
        #expect(result.message.text == nil)
        #expect(result.message.attachments == nil)
        #expect(result.message.updatedSeq > message.message.updatedSeq)
        #expect(fixture.eventNames(on: .chat(chat)) == [EventName.messageDeleted])
        let history: HistoryResult = try await fixture.call("bob", Op.chatHistory, HistoryArgs(chatId: chat))
        #expect(history.messages == [result.message])
    }

    @Test func whoMayDelete() async throws {
        let group = try await fixture.group("ann", members: ["adm", "bob", "cat"])
        let _: SystemMessageResult = try await fixture.call("ann", Op.groupSetRole,
                                                            GroupSetRoleArgs(groupId: group, userId: "adm", role: "admin"))
        let bobs = try await fixture.send("bob", group, "bob's")
        let bobs2 = try await fixture.send("bob", group, "bob's too")
        let byMember = try await fixture.failure("cat", Op.chatDelete, ChatSeqArgs(chatId: group, seq: bobs.seq))
        #expect(byMember.code == .forbidden)
        let system = try await fixture.failure("ann", Op.chatDelete, ChatSeqArgs(chatId: group, seq: 1))
        #expect(system.code == .forbidden)
        let _: MessageResult = try await fixture.call("adm", Op.chatDelete, ChatSeqArgs(chatId: group, seq: bobs.seq))
        let _: MessageResult = try await fixture.call("ann", Op.chatDelete, ChatSeqArgs(chatId: group, seq: bobs2.seq))

        let direct = try await fixture.direct("ann", "bob")
        let mine = try await fixture.send("bob", direct, "direct")
        let other = try await fixture.failure("ann", Op.chatDelete, ChatSeqArgs(chatId: direct, seq: mine.seq))
        #expect(other.code == .forbidden)
    }

    @Test func reactPublishesOnlyChanges() async throws {
        let chat = try await fixture.group("ann", members: ["bob"])
        let message = try await fixture.send("ann", chat, "PR today")
        fixture.bus.reset()

        let added: ReactResult = try await fixture.call("bob", Op.chatReact, ReactArgs(chatId: chat, seq: message.seq, emoji: "🔥"))
        #expect(added.changed)
        #expect(added.message.reactions == ["🔥": 1])
        let again: ReactResult = try await fixture.call("bob", Op.chatReact, ReactArgs(chatId: chat, seq: message.seq, emoji: "🔥"))
        #expect(!again.changed)
        #expect(again.message == added.message)
        let removed: ReactResult = try await fixture.call("bob", Op.chatReact,
                                                          ReactArgs(chatId: chat, seq: message.seq, emoji: "🔥", remove: true))
        #expect(removed.changed)
        #expect(removed.message.reactions.isEmpty)
        let removeAgain: ReactResult = try await fixture.call("bob", Op.chatReact,
                                                              ReactArgs(chatId: chat, seq: message.seq, emoji: "🔥", remove: true))
        #expect(!removeAgain.changed)

        let events = fixture.bus.events
        #expect(events.map(\.topic) == [.chat(chat), .chat(chat)])
        #expect(events.map(\.eventName) == [EventName.reaction, EventName.reaction])
        let first = try events[0].payload(ReactionEvent.self)
        #expect(first == ReactionEvent(message: added.message, userId: "bob", emoji: "🔥", added: true))
        #expect(try events[1].payload(ReactionEvent.self).added == false)
    }

    @Test func reactDenialsAndEmojiRules() async throws {
        let chat = try await fixture.group("ann")
        let message = try await fixture.send("ann", chat, "hi")
        let outsider = try await fixture.failure("zed", Op.chatReact, ReactArgs(chatId: chat, seq: message.seq, emoji: "👍"))
        #expect(outsider.code == .forbidden)
        for bad in ["", "a b", "\u{7}", String(repeating: "👍", count: 9)] {
            let body = try await fixture.failure("ann", Op.chatReact, ReactArgs(chatId: chat, seq: message.seq, emoji: bad))
            #expect(body.code == .invalidArgs, "emoji \(bad.debugDescription)")
            #expect(body.message.hasPrefix("emoji"))
        }
        let family: ReactResult = try await fixture.call("ann", Op.chatReact,
                                                         ReactArgs(chatId: chat, seq: message.seq, emoji: "👨‍👩‍👧"))
        #expect(family.changed)
        let missing = try await fixture.failure("ann", Op.chatReact, ReactArgs(chatId: chat, seq: 77, emoji: "👍"))
        #expect(missing.code == .notFound)
    }
}
