import Foundation
import Logging
import SocialCore
import SocialProtocol
import SocialTesting
import Testing
@testable import SocialHTTP

/// What the REST proxy and the push webhook send of the trace and request id
/// of the command or API request that makes the call, against real HTTP
/// servers (`echo_upstream.py`, `push_webhook_server.py`).
@Suite struct OutgoingTraceTests {
    static let commandSpan = TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")!

    private func header(_ headers: [String: String], _ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    private func proxy(_ server: UpstreamTestServer) throws -> HTTPUpstreamProxy {
        let settings = try ProxySettings(upstreams: ["training=\(server.url)/api"], allow: ["training=GET:/v1"])
        return HTTPUpstreamProxy(settings: settings, logger: Logger(label: "test"))
    }

    private func echoedHeaders(_ response: UpstreamResponse) throws -> [String: String] {
        let echo = try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        return try #require(echo["headers"] as? [String: String])
    }

    @Test func aProxiedCallNamesTheCommandsSpanAsItsParent() async throws {
        let server = try UpstreamTestServer.start()
        let call = UpstreamCall(service: "training", method: "GET", path: "/v1/plans", body: nil, userId: "u_maya",
                                deviceId: "phone", accessToken: "t", requestId: "req-7", trace: Self.commandSpan)
        let headers = try echoedHeaders(try await proxy(server).forward(call))
        #expect(headers["traceparent"] == Self.commandSpan.traceparent)
        #expect(headers["x-request-id"] == "req-7")
    }

    @Test func aProxiedCallWithoutASpanStartsATrace() async throws {
        let server = try UpstreamTestServer.start()
        let call = UpstreamCall(service: "training", method: "GET", path: "/v1/plans", body: nil, userId: "u_maya",
                                deviceId: "phone", accessToken: "t", requestId: "req-8")
        let headers = try echoedHeaders(try await proxy(server).forward(call))
        let sent = try #require(headers["traceparent"].flatMap { TraceContext(traceparent: $0) })
        #expect(sent.traceId != Self.commandSpan.traceId)
    }

    private let push = PushRequest(userId: "ann", digest: false,
                                   notifications: [WireNotification(id: 7, type: "kudos", title: "Nice run", body: "",
                                                                    priority: "normal", status: "unread", createdAt: 1)],
                                   unread: 1)

    private func webhook(_ server: WebhookTestServer) -> PushWebhook {
        PushWebhook(settings: PushWebhookSettings(url: URL(string: server.url)!))
    }

    @Test func aPushCarriesTheTraceAndRequestIdOfWhatCausedIt() async throws {
        let server = try WebhookTestServer(failFirst: 1)
        defer { server.stop() }
        let webhook = webhook(server)
        let context = RequestContext.Snapshot(requestId: "api-42", trace: Self.commandSpan)
        #expect(await context.bind { await webhook.send(push) })
        let received = server.requests
        #expect(received.count == 2, "one retry")
        for request in received {
            #expect(header(request.headers, "traceparent") == Self.commandSpan.traceparent, "every attempt")
            #expect(header(request.headers, "X-Request-Id") == "api-42")
        }
    }

    @Test func aPushWithNothingBehindItGetsATraceAndARequestIdOfItsOwn() async throws {
        let server = try WebhookTestServer()
        defer { server.stop() }
        #expect(await webhook(server).send(push))
        let request = try #require(server.requests.first)
        #expect(header(request.headers, "traceparent").flatMap { TraceContext(traceparent: $0) } != nil)
        #expect(header(request.headers, "X-Request-Id")?.hasPrefix("push-") == true)
    }
}
