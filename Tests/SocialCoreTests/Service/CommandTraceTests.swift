import Foundation
import Logging
@testable import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// Each command runs in a span of the client's trace (or a new one), and
/// what it causes carries that span: its events on the bus, whichever path
/// publishes them (the pipeline, the store's completion, a dispatcher task),
/// and its REST proxy call.
@Suite struct CommandTraceTests {
    let fixture = ServiceFixture()
    static let client = TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")!

    /// Runs `op` as `user` in the client's trace; returns the reply.
    @discardableResult
    private func traced<Result: Decodable>(_ user: UserID, _ op: String, _ args: some Encodable,
                                           as type: Result.Type) async throws -> Result {
        let frame = TestCommand(id: 5, op: op, args: args, traceparent: Self.client.traceparent).frame
        let reply = try TestReply<Result>(frame: await fixture.raw(frame, as: user))
        if let error = reply.error { throw ServiceFixture.ReplyError(body: error) }
        return try #require(reply.ok)
    }

    /// The command's span as seen on an event: the client's trace, a span of its own.
    private func expectChildOfClient(_ event: BusEvent?, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let trace = event?.trace else {
            Issue.record("no trace on \(event?.eventName ?? "a missing event")", sourceLocation: sourceLocation)
            return
        }
        #expect(trace.traceId == Self.client.traceId, sourceLocation: sourceLocation)
        #expect(trace.spanId != Self.client.spanId, "the gateway's span, not the client's", sourceLocation: sourceLocation)
        #expect(trace.isSampled, sourceLocation: sourceLocation)
    }

    @Test func aSendsEventCarriesTheCommandsSpan() async throws {
        let chat = try await fixture.group("ann", members: ["bob"])
        fixture.bus.reset()
        try await traced("ann", Op.chatSend, SendArgs(chatId: chat, text: "5 km done"), as: SendResult.self)
        let events = fixture.bus.events(on: .chat(chat))
        #expect(events.map(\.eventName) == [EventName.messageNew])
        expectChildOfClient(events.first)
    }

    @Test func editsReactionsReadsAndTypingCarryItToo() async throws {
        let chat = try await fixture.group("ann", members: ["bob"])
        let message = try await fixture.send("ann", chat, "hill repeats?")
        fixture.bus.reset()
        try await traced("ann", Op.chatEdit, EditArgs(chatId: chat, seq: message.seq, text: "hill repeats!"), as: MessageResult.self)
        try await traced("bob", Op.chatReact, ReactArgs(chatId: chat, seq: message.seq, emoji: "🔥"), as: ReactResult.self)
        try await traced("bob", Op.chatRead, ChatSeqArgs(chatId: chat, seq: message.seq), as: ReadResult.self)
        try await traced("bob", Op.chatTyping, TypingArgs(chatId: chat), as: TypingResult.self)
        let events = fixture.bus.events(on: .chat(chat))
        #expect(events.map(\.eventName) == [EventName.messageEdited, EventName.reaction, EventName.read, EventName.typing])
        for event in events { expectChildOfClient(event) }
    }

    @Test func eventsPublishedFromTheStoresCompletionAndFromTasksCarryIt() async throws {
        let created = try await traced("ann", Op.groupCreate, GroupCreateArgs(title: "Dawn patrol", open: true),
                                       as: GroupResult.self)
        expectChildOfClient(fixture.bus.events(on: .user("ann")).first { $0.eventName == EventName.chatAdded })
        fixture.bus.reset()
        try await traced("bob", Op.groupJoin, GroupRef(groupId: created.group.chatId), as: GroupResult.self)
        #expect(!fixture.bus.events.isEmpty)
        for event in fixture.bus.events { expectChildOfClient(event) }
    }

    @Test func aCommandWithoutATraceparentStartsATraceOfItsOwn() async throws {
        let chat = try await fixture.group("ann", members: ["bob"])
        fixture.bus.reset()
        try await fixture.send("ann", chat, "no trace here")
        try await fixture.send("ann", chat, "nor here")
        let traces = fixture.bus.events(on: .chat(chat)).compactMap(\.trace)
        #expect(traces.count == 2)
        #expect(traces[0].traceId != traces[1].traceId, "one trace per command")
        #expect(traces.allSatisfy { $0.traceId != Self.client.traceId && $0.isSampled })
    }

    @Test func anInvalidTraceparentIsIgnored() async throws {
        let chat = try await fixture.group("ann")
        fixture.bus.reset()
        let frame = TestCommand(id: 6, op: Op.chatSend, args: SendArgs(chatId: chat, text: "x"),
                                traceparent: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01").frame
        let reply = try TestReply<SendResult>(frame: await fixture.raw(frame, as: "ann"))
        #expect(reply.ok != nil, "not an error")
        let trace = try #require(fixture.bus.events(on: .chat(chat)).first?.trace)
        #expect(trace.traceId != Self.client.traceId)
    }

    @Test func theProxyCallIsInTheCommandsSpan() async throws {
        let proxy = ProxyDispatchTests.FakeProxy(.success(UpstreamResponse(status: 204, headers: [:], body: [])))
        let store = MemoryChatStore()
        let harness = PipelineHarness(
            dispatcher: Dispatcher(store: store, bus: RecordingBus(), clock: { 0 }, ids: SequentialChatIDs().generate,
                                   logger: Logger(label: "test"), proxy: proxy),
            store: store)
        let maya = Caller(userId: "maya", deviceId: "watch", sessionId: "s1", accessToken: "tok-1")
        let frame = TestCommand(id: 3, op: Op.proxyRequest,
                                args: ProxyRequestArgs(service: "training", method: "GET", path: "/v1/plans"),
                                traceparent: Self.client.traceparent).frame
        _ = await harness.reply(frame, from: maya)
        let trace = try #require(proxy.calls.first?.trace)
        #expect(trace.traceId == Self.client.traceId && trace.spanId != Self.client.spanId)
    }

    @Test func logLinesInACommandCarryItsRequestIdAndTraceId() {
        let context = RequestContext.Snapshot(requestId: "k3x9a-17-42", trace: Self.client)
        let metadata = context.bind { RequestContext.metadataProvider.get() }
        #expect(metadata["request_id"] == "k3x9a-17-42")
        #expect(metadata["trace_id"]?.description == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(RequestContext.metadataProvider.get().isEmpty, "nothing outside a command")
    }

    @Test func spanIdsAreNeverZeroAndDoNotRepeat() {
        var ids = TraceIDGenerator(seed: (0, 0, 0, 0))
        var seen = Set<SpanID>()
        for _ in 0..<10_000 {
            let span = TraceContext.root(using: &ids)
            #expect(span.spanId.value != 0 && (span.traceId.high | span.traceId.low) != 0)
            seen.insert(span.spanId)
        }
        #expect(seen.count == 10_000)
    }
}
