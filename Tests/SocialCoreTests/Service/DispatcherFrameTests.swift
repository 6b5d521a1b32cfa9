import Foundation
import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// Frames the dispatcher cannot run: each gets a clear error reply, never a crash.
@Suite struct DispatcherFrameTests {
    let fixture = ServiceFixture()

    private func errorReply(_ text: String) async throws -> (id: Int?, body: ErrorBody) {
        let reply = try TestReply<Empty>(frame: await fixture.raw(Array(text.utf8), as: "ann"))
        return (reply.id, try #require(reply.error))
    }

    @Test func notJSONIsBadRequestWithNullId() async throws {
        let frame = await fixture.raw(Array("hello there".utf8), as: "ann")
        let text = String(decoding: frame, as: UTF8.self)
        #expect(text.contains(#""id":null"#))
        let (id, body) = try await errorReply("hello there")
        #expect(id == nil)
        #expect(body.code == .badRequest)
    }

    @Test func jsonThatIsNotAnObjectIsBadRequest() async throws {
        let (id, body) = try await errorReply("[1, 2, 3]")
        #expect(id == nil)
        #expect(body.code == .badRequest)
    }

    @Test func missingIdIsBadRequestWithNullId() async throws {
        let (id, body) = try await errorReply(#"{"op": "ping"}"#)
        #expect(id == nil)
        #expect(body.code == .badRequest)
        #expect(body.message.contains("id"))
    }

    @Test func missingOpIsBadRequestWithTheId() async throws {
        let (id, body) = try await errorReply(#"{"id": 4}"#)
        #expect(id == 4)
        #expect(body.code == .badRequest)
        #expect(body.message.contains("op"))
    }

    @Test func unknownOpIsNamed() async throws {
        let (id, body) = try await errorReply(#"{"id": 5, "op": "chat.explode"}"#)
        #expect(id == 5)
        #expect(body.code == .unknownOp)
        #expect(body.message.contains("chat.explode"))
        #expect(!body.temporary)
    }

    @Test func wrongArgTypeNamesTheField() async throws {
        let (id, body) = try await errorReply(#"{"id": 6, "op": "chat.send", "args": {"chat_id": 42, "text": "hi"}}"#)
        #expect(id == 6)
        #expect(body.code == .invalidArgs)
        #expect(body.message.contains("chat_id"))
    }

    @Test func missingArgNamesTheField() async throws {
        let (_, body) = try await errorReply(#"{"id": 6, "op": "group.create", "args": {"open": true}}"#)
        #expect(body.code == .invalidArgs)
        #expect(body.message.contains("title"))
    }

    @Test func nestedWrongTypeNamesThePath() async throws {
        let frame = #"{"id": 1, "op": "chat.send", "args": {"chat_id": "c", "attachments": [{"url": 5}]}}"#
        let (_, body) = try await errorReply(frame)
        #expect(body.code == .invalidArgs)
        #expect(body.message.contains("attachments[0].url"))
    }

    @Test func argsThatAreNotAnObjectAreInvalid() async throws {
        let (_, body) = try await errorReply(#"{"id": 2, "op": "chat.history", "args": "general"}"#)
        #expect(body.code == .invalidArgs)
        #expect(body.message.contains("args"))
    }

    @Test func pingRepliesWithTheClock() async throws {
        let result: PingResult = try await fixture.call("ann", Op.ping)
        #expect(result.serverTime == fixture.clock.now)
        fixture.clock.advance(by: 1234)
        let later: PingResult = try await fixture.call("ann", Op.ping)
        #expect(later.serverTime == result.serverTime + 1234)
    }

    @Test func storeOutageIsTemporaryUnavailable() async throws {
        let chat = try await fixture.group("ann")
        fixture.faults.fail(with: StoreError.unavailable("disk on fire"))
        let body = try await fixture.failure("ann", Op.chatSend, SendArgs(chatId: chat, text: "hi"))
        #expect(body.code == .unavailable)
        #expect(body.temporary)
        #expect(!body.message.contains("disk on fire"))
    }

    @Test func unexpectedErrorIsInternal() async throws {
        struct Boom: Error {}
        fixture.faults.fail(with: Boom())
        let body = try await fixture.failure("ann", Op.chatsList)
        #expect(body.code == .internalError)
        #expect(body.temporary)
    }

    @Test func chatsOfUserListsMemberships() async throws {
        let group = try await fixture.group("ann", members: ["bob"])
        let direct = try await fixture.direct("bob", "cat")
        #expect(try await fixture.dispatcher.chats(of: "bob").sorted() == [direct, group].sorted())
        #expect(try await fixture.dispatcher.chats(of: "ann") == [group])
        #expect(try await fixture.dispatcher.chats(of: "nobody").isEmpty)
    }
}
