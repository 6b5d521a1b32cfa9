import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// chat.send: content rules, limits, membership, idempotency, events.
@Suite struct MessageTests {
    let fixture = ServiceFixture()

    @Test func sendStoresThenPublishesMessageNew() async throws {
        let chat = try await fixture.group("ann", members: ["bob"])
        fixture.bus.reset()
        let result: SendResult = try await fixture.call("bob", Op.chatSend,
                                                        SendArgs(chatId: chat, text: "5k done", clientMsgId: "m1"))
        #expect(!result.duplicate)
        let message = result.message
        #expect(message.sender == "bob")
        #expect(message.senderKind == "user")
        #expect(message.kind == "text")
        #expect(message.text == "5k done")
        #expect(message.clientMsgId == "m1")
        #expect(message.ts == fixture.clock.now)
        #expect(message.seq == message.updatedSeq)

        let stored = try #require(try await fixture.store.message(chat, seq: message.seq))
        #expect(stored.text == "5k done")
        let events = fixture.bus.events
        #expect(events.map(\.topic) == [.chat(chat)])
        #expect(events.map(\.eventName) == [EventName.messageNew])
        #expect(try events[0].payload(MessageEvent.self).message == message)
        #expect(!events[0].ephemeral)
    }

    @Test func onlyMembersSend() async throws {
        let chat = try await fixture.group("ann")
        let outsider = try await fixture.failure("zed", Op.chatSend, SendArgs(chatId: chat, text: "hi"))
        #expect(outsider.code == .forbidden)
        let missing = try await fixture.failure("ann", Op.chatSend, SendArgs(chatId: "g_nope", text: "hi"))
        #expect(missing.code == .notFound)
        #expect(fixture.bus.events(on: .chat(chat)).isEmpty)
    }

    @Test func retriedClientMsgIdIsStoredAndDeliveredOnce() async throws {
        let chat = try await fixture.direct("ann", "bob")
        fixture.bus.reset()
        let first: SendResult = try await fixture.call("ann", Op.chatSend, SendArgs(chatId: chat, text: "hi", clientMsgId: "abc"))
        let retry: SendResult = try await fixture.call("ann", Op.chatSend, SendArgs(chatId: chat, text: "hi", clientMsgId: "abc"))
        #expect(!first.duplicate)
        #expect(retry.duplicate)
        #expect(retry.message == first.message)
        #expect(fixture.eventNames(on: .chat(chat)) == [EventName.messageNew])
        #expect(try await fixture.store.history(chat, before: nil, after: nil, limit: 10).count == 1)

        // Another sender's equal client id is another message.
        let other: SendResult = try await fixture.call("bob", Op.chatSend, SendArgs(chatId: chat, text: "hi", clientMsgId: "abc"))
        #expect(!other.duplicate)
        #expect(other.message.seq == first.message.seq + 1)
    }

    @Test func textIsRequiredUnlessAttachmentsOrData() async throws {
        let chat = try await fixture.group("ann")
        for args in [SendArgs(chatId: chat, text: nil), SendArgs(chatId: chat, text: "  \n ")] {
            let body = try await fixture.failure("ann", Op.chatSend, args)
            #expect(body.code == .invalidArgs)
            #expect(body.message.hasPrefix("text"))
        }
        let photo: SendResult = try await fixture.call("ann", Op.chatSend, SendArgs(
            chatId: chat, text: nil, attachments: [WireAttachment(url: "https://cdn.example/p.jpg", mime: "image/jpeg", size: 2048)]))
        #expect(photo.message.attachments?.first?.url == "https://cdn.example/p.jpg")
        let card: SendResult = try await fixture.call("ann", Op.chatSend, SendArgs(
            chatId: chat, text: nil, kind: "poll", data: .object(["q": .string("Run at 7?")])))
        #expect(card.message.kind == "poll")
    }

    @Test func kindsAreCheckedAndSystemIsReserved() async throws {
        let chat = try await fixture.group("ann")
        let system = try await fixture.failure("ann", Op.chatSend, SendArgs(chatId: chat, text: "x", kind: "system"))
        #expect(system.code == .invalidArgs)
        #expect(system.message.hasPrefix("kind"))
        for bad in ["", "Text", "with space", String(repeating: "k", count: 33)] {
            let body = try await fixture.failure("ann", Op.chatSend, SendArgs(chatId: chat, text: "x", kind: bad))
            #expect(body.code == .invalidArgs, "kind \(bad)")
        }
        let ok: SendResult = try await fixture.call("ann", Op.chatSend, SendArgs(chatId: chat, text: "x", kind: "run.v2_x-1"))
        #expect(ok.message.kind == "run.v2_x-1")
    }

    @Test func workoutCardsNeedAWorkoutId() async throws {
        let chat = try await fixture.group("ann")
        for data: JSONValue? in [nil, .object([:]), .object(["workout_id": .number(5)]), .string("w1")] {
            let body = try await fixture.failure("ann", Op.chatSend, SendArgs(chatId: chat, text: "look", kind: "workout", data: data))
            #expect(body.code == .invalidArgs)
            #expect(body.message.hasPrefix("data.workout_id"))
        }
        let card: SendResult = try await fixture.call("ann", Op.chatSend, SendArgs(
            chatId: chat, text: nil, kind: "workout", data: .object(["workout_id": .string("w-42"), "km": .number(5)])))
        #expect(card.message.data == .object(["workout_id": .string("w-42"), "km": .number(5)]))
    }

    @Test func limitsOnContent() async throws {
        var limits = ChatLimits()
        limits.maxTextBytes = 10
        limits.maxAttachments = 2
        limits.maxJSONBytes = 64
        let fixture = ServiceFixture(limits: limits)
        let chat = try await fixture.group("ann")
        func code(_ args: SendArgs) async throws -> (ErrorCode, String) {
            let body = try await fixture.failure("ann", Op.chatSend, args)
            return (body.code, body.message)
        }
        let url = "https://cdn.example/a"
        #expect(try await code(SendArgs(chatId: chat, text: "ü" + String(repeating: "x", count: 9))) == (.tooLarge, "text: longer than 10 bytes"))
        let three = Array(repeating: WireAttachment(url: url), count: 3)
        #expect(try await code(SendArgs(chatId: chat, text: "x", attachments: three)).0 == .tooLarge)
        let ftp = try await code(SendArgs(chatId: chat, text: "x", attachments: [WireAttachment(url: url), WireAttachment(url: "ftp://x/y")]))
        #expect(ftp.0 == .invalidArgs)
        #expect(ftp.1.hasPrefix("attachments[1].url"))
        let longURL = "https://" + String(repeating: "a", count: 2048)
        #expect(try await code(SendArgs(chatId: chat, text: "x", attachments: [WireAttachment(url: longURL)])).0 == .tooLarge)
        let bigMeta = WireAttachment(url: url, meta: .string(String(repeating: "m", count: 100)))
        let meta = try await code(SendArgs(chatId: chat, text: "x", attachments: [bigMeta]))
        #expect(meta.0 == .tooLarge)
        #expect(meta.1.hasPrefix("attachments[0].meta"))
        let data = try await code(SendArgs(chatId: chat, text: "x", data: .string(String(repeating: "d", count: 100))))
        #expect(data == (.tooLarge, "data: larger than 64 bytes"))
        let cid = try await code(SendArgs(chatId: chat, text: "x", clientMsgId: String(repeating: "c", count: 65)))
        #expect(cid.0 == .invalidArgs)
        #expect(cid.1.hasPrefix("client_msg_id"))
        #expect(try await code(SendArgs(chatId: chat, text: "x", clientMsgId: "")).0 == .invalidArgs)

        let fits: SendResult = try await fixture.call("ann", Op.chatSend, SendArgs(chatId: chat, text: "ü" + String(repeating: "x", count: 8)))
        #expect(fits.message.text?.utf8.count == 10)
    }

    @Test func replyToMustNameAMessageOfTheChat() async throws {
        let chat = try await fixture.group("ann")
        let other = try await fixture.group("ann")
        let first = try await fixture.send("ann", chat, "first")
        let reply = try await fixture.send("ann", chat, "reply", replyTo: first.seq)
        #expect(reply.replyTo == first.seq)
        let missing = try await fixture.failure("ann", Op.chatSend, SendArgs(chatId: other, text: "x", replyTo: 99))
        #expect(missing.code == .invalidArgs)
        #expect(missing.message.hasPrefix("reply_to"))
        let negative = try await fixture.failure("ann", Op.chatSend, SendArgs(chatId: chat, text: "x", replyTo: -1))
        #expect(negative.code == .invalidArgs)
    }
}
