import Foundation
import Logging
@testable import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// `proxy.request` in the dispatcher: who may call, what the proxy is given,
/// and how its answer becomes the reply. The HTTP side is `SocialHTTPTests`.
@Suite struct ProxyDispatchTests {
    /// Records calls and answers with a fixed response or failure.
    final class FakeProxy: UpstreamProxy, @unchecked Sendable {
        let lock = NSLock()
        var calls: [UpstreamCall] = []
        let answer: Result<UpstreamResponse, ProxyFailure>
        init(_ answer: Result<UpstreamResponse, ProxyFailure>) { self.answer = answer }
        func forward(_ call: UpstreamCall) async throws -> UpstreamResponse {
            lock.withLock { calls.append(call) }
            return try answer.get()
        }
    }

    /// A dispatcher over a memory store, behind a command pipeline.
    private func dispatcher(_ proxy: FakeProxy?) -> PipelineHarness {
        let store = MemoryChatStore()
        return PipelineHarness(
            dispatcher: Dispatcher(store: store, bus: RecordingBus(), clock: { 0 }, ids: SequentialChatIDs().generate,
                                   logger: Logger(label: "test"), proxy: proxy),
            store: store)
    }

    private func reply(_ dispatcher: PipelineHarness, _ caller: Caller, _ args: ProxyRequestArgs) async throws -> TestReply<ProxyResult> {
        try TestReply<ProxyResult>(frame: await dispatcher.reply(TestCommand(id: 3, op: Op.proxyRequest, args: args).frame,
                                                                 from: caller))
    }

    private let maya = Caller(userId: "maya", deviceId: "watch", sessionId: "s1", accessToken: "tok-1")
    private let args = ProxyRequestArgs(service: "training", method: "POST", path: "/v1/workouts", body: .object(["km": .number(5)]))

    @Test func forwardsTheCallersIdentityAndShapesAJSONAnswer() async throws {
        let proxy = FakeProxy(.success(UpstreamResponse(status: 201, headers: ["content-type": "application/json; charset=utf-8"],
                                                        body: Array(#"{"id":"w1"}"#.utf8))))
        let reply = try await reply(dispatcher(proxy), maya, args)
        let ok = try #require(reply.ok)
        #expect(ok.status == 201 && ok.body == .object(["id": .string("w1")]) && ok.text == nil)
        let call = try #require(proxy.calls.first)
        #expect(call.userId == "maya" && call.deviceId == "watch" && call.accessToken == "tok-1")
        #expect(call.body == Array(#"{"km":5}"#.utf8))
        #expect(call.requestId == ok.requestId && call.requestId.count == 32)
    }

    @Test func textStaysTextAndOtherTypesAreLeftOut() {
        let text = Dispatcher.proxyResult(UpstreamResponse(status: 200, headers: ["content-type": "text/plain"], body: Array("hi".utf8)), requestId: "r")
        #expect(text.text == "hi" && text.body == nil)
        let badJSON = Dispatcher.proxyResult(UpstreamResponse(status: 502, headers: ["content-type": "application/problem+json"], body: Array("oops".utf8)), requestId: "r")
        #expect(badJSON.text == "oops" && badJSON.body == nil)
        let binary = Dispatcher.proxyResult(UpstreamResponse(status: 200, headers: ["content-type": "image/png"], body: [0x89, 0x50]), requestId: "r")
        #expect(binary.text == nil && binary.body == nil && binary.headers["content-type"] == "image/png")
        let notUTF8 = Dispatcher.proxyResult(UpstreamResponse(status: 200, headers: ["content-type": "text/plain"], body: [0xFF, 0xFE]), requestId: "r")
        #expect(notUTF8.text == nil)
    }

    @Test func botsMayNotUseTheProxy() async throws {
        let proxy = FakeProxy(.success(UpstreamResponse(status: 200, headers: [:], body: [])))
        let bot = Caller(userId: "coach-bot", deviceId: "bot", sessionId: "s2", kind: .bot)
        let reply = try await reply(dispatcher(proxy), bot, args)
        #expect(reply.error?.code == .forbidden)
        #expect(proxy.calls.isEmpty)
    }

    @Test func proxyFailuresBecomeErrorReplies() async throws {
        let proxy = FakeProxy(.failure(ProxyFailure(.unavailable, "training is failing", retryAfterMs: 900)))
        let error = try #require(try await reply(dispatcher(proxy), maya, args).error)
        #expect(error.code == .unavailable && error.temporary && error.retryAfterMs == 900)
    }

    @Test func withoutAProxyEveryServiceIsUnknown() async throws {
        #expect(try await reply(dispatcher(nil), maya, args).error?.code == .invalidArgs)
    }
}
