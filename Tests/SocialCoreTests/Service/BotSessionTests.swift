import Foundation
import Logging
import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// What a bot's session may do: the ops its scopes allow, groups it is
/// invited to, at most `botMaxChats`; its messages are marked as a bot's.
@Suite struct BotSessionTests {
    static func bot(_ scopes: [String] = BotScope.all) -> Caller {
        Caller(userId: "bot_1", deviceId: "bot", sessionId: "s-bot", kind: .bot, scopes: scopes)
    }

    static let alice = Caller(userId: "alice", deviceId: "phone", sessionId: "s-alice")

    func run(_ dispatcher: PipelineHarness, _ caller: Caller, _ op: String, _ args: String = "{}") async -> [String: Any] {
        let frame = Array(#"{"id":1,"op":"\#(op)","args":\#(args)}"#.utf8)
        let reply = await dispatcher.reply(frame, from: caller)
        return (try? JSONSerialization.jsonObject(with: Data(reply))) as? [String: Any] ?? [:]
    }

    func code(_ reply: [String: Any]) -> String? { (reply["error"] as? [String: Any])?["code"] as? String }

    func groupWithBotInvited(_ dispatcher: PipelineHarness, open: Bool = false) async throws -> String {
        let created = await run(dispatcher, Self.alice, Op.groupCreate, #"{"title":"Club","open":\#(open)}"#)
        let group = try #require(((created["ok"] as? [String: Any])?["group"] as? [String: Any])?["group_id"] as? String)
        _ = await run(dispatcher, Self.alice, Op.groupInvite, #"{"group_id":"\#(group)","user_id":"bot_1"}"#)
        return group
    }

    /// A dispatcher over a fresh memory store, behind a command pipeline.
    func dispatcher(_ limits: ChatLimits = .init()) -> PipelineHarness {
        let store = MemoryChatStore()
        return PipelineHarness(
            dispatcher: Dispatcher(store: store, bus: RecordingBus(), limits: limits, clock: { 1_700_000_000_000 },
                                   ids: SequentialChatIDs().generate, logger: Logger(label: "test.bots")),
            store: store)
    }

    @Test func aBotsMessagesAreMarkedAsABots() async throws {
        let dispatcher = dispatcher()
        let group = try await groupWithBotInvited(dispatcher)
        #expect(code(await run(dispatcher, Self.bot(), Op.groupJoin, #"{"group_id":"\#(group)"}"#)) == nil)
        let sent = await run(dispatcher, Self.bot(), Op.chatSend, #"{"chat_id":"\#(group)","text":"hi"}"#)
        let message = try #require((sent["ok"] as? [String: Any])?["message"] as? [String: Any])
        #expect(message["sender_kind"] as? String == "bot")
        let mine = await run(dispatcher, Self.alice, Op.chatSend, #"{"chat_id":"\#(group)","text":"hello"}"#)
        #expect(((mine["ok"] as? [String: Any])?["message"] as? [String: Any])?["sender_kind"] as? String == "user")
    }

    @Test func opsOutsideTheBotsScopesAreForbidden() async throws {
        let dispatcher = dispatcher()
        let group = try await groupWithBotInvited(dispatcher)
        let reader = Self.bot([BotScope.read])
        #expect(code(await run(dispatcher, reader, Op.groupJoin, #"{"group_id":"\#(group)"}"#)) == nil)
        #expect(code(await run(dispatcher, reader, Op.chatSend, #"{"chat_id":"\#(group)","text":"x"}"#)) == "forbidden")
        #expect(code(await run(dispatcher, reader, Op.chatReact, #"{"chat_id":"\#(group)","seq":1,"emoji":"👍"}"#)) == "forbidden")
        #expect(code(await run(dispatcher, reader, Op.chatHistory, #"{"chat_id":"\#(group)"}"#)) == nil)
        for op in [Op.groupCreate, Op.chatOpenDirect, Op.presenceSet, Op.chatTyping, Op.groupInvite] {
            #expect(code(await run(dispatcher, Self.bot(), op)) == "forbidden", "\(op)")
        }
        #expect(code(await run(dispatcher, Self.bot([]), Op.ping)) == nil)
    }

    @Test func aBotJoinsOnlyWhenInvitedAndAtMostBotMaxChats() async throws {
        var limits = ChatLimits()
        limits.botMaxChats = 1
        let dispatcher = dispatcher(limits)
        let created = await run(dispatcher, Self.alice, Op.groupCreate, #"{"title":"Open","open":true}"#)
        let open = try #require(((created["ok"] as? [String: Any])?["group"] as? [String: Any])?["group_id"] as? String)
        #expect(code(await run(dispatcher, Self.bot(), Op.groupJoin, #"{"group_id":"\#(open)"}"#)) == "forbidden")
        let first = try await groupWithBotInvited(dispatcher)
        let second = try await groupWithBotInvited(dispatcher)
        #expect(code(await run(dispatcher, Self.bot(), Op.groupJoin, #"{"group_id":"\#(first)"}"#)) == nil)
        #expect(code(await run(dispatcher, Self.bot(), Op.groupJoin, #"{"group_id":"\#(second)"}"#)) == "conflict")
    }
}
