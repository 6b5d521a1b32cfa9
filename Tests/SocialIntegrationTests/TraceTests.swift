import Foundation
import SocialProtocol
import SocialTesting
import Testing

/// Traces across services, end to end: a client's or a backend's
/// `traceparent` reaches the REST upstream and the push service as the
/// parent of the gateway's span, with the request id, and a node that
/// delivers an event published on another node logs the same trace id.
/// Gateways run at `--log-level debug`; their logs are read back.
@Suite struct TraceTests {
    init() async throws { try await Fixture.prepare() }

    static let caller = TraceContext(traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")!

    /// Sends `op` with the caller's `traceparent` and waits for its reply.
    private func traced(_ client: TestClient, id: Int, _ op: String, _ args: [String: Any]) throws -> [String: Any] {
        let frame: [String: Any] = ["id": id, "op": op, "args": args, "traceparent": Self.caller.traceparent]
        client.send(Array(try JSONSerialization.data(withJSONObject: frame)))
        return try #require(client.next(timeout: 30) { ($0["id"] as? Int) == id && $0["event"] == nil })
    }

    /// A connected client and its `hello`'s session id (the prefix of its request ids).
    private func connect(_ gateway: GatewayProcess, _ user: String, token: String? = nil) throws -> (TestClient, String) {
        let client = try TestClient.connect(Fixture.loop, port: gateway.port, token: token ?? Fixture.token(user),
                                            query: "?device_id=phone")
        let hello = try #require(client.event("hello"))
        return (client, try #require(hello["session_id"] as? String))
    }

    private func header(_ headers: [String: String], _ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    @Test func aProxiedCallCarriesTheCallersTraceWithTheGatewaysSpanAsParentAndTheRequestId() throws {
        let upstream = try UpstreamTestServer.start()
        let gateway = try Fixture.gateway(["--upstream", "training=\(upstream.url)/api",
                                           "--upstream-allow", "training=GET:/v1/plans", "--log-level", "debug"])
        let token = Fixture.minter.token(user: "maya")
        let (client, session) = try connect(gateway, "maya", token: token)

        let reply = try traced(client, id: 41, "proxy.request", ["service": "training", "method": "GET", "path": "/v1/plans"])
        let ok = try #require(reply["ok"] as? [String: Any])
        let headers = try #require((ok["body"] as? [String: Any])?["headers"] as? [String: String])
        let sent = try #require(headers["traceparent"].flatMap { TraceContext(traceparent: $0) })
        #expect(sent.traceId == Self.caller.traceId, "the caller's trace")
        #expect(sent.spanId != Self.caller.spanId, "the parent is the gateway's span, not the caller's")
        #expect(headers["x-request-id"] == ok["request_id"] as? String, "the call's request id, as the reply says")

        // The gateway's span of the command is the one it logged for the command's request id.
        let command = try #require(gateway.waitForLogLine("command") { $0["request_id"] == "\(session)-41" })
        #expect(command["trace_id"] == Self.caller.traceId.description)
        #expect(command["span_id"] == sent.spanId.description)
        let call = try #require(gateway.waitForLogLine("upstream call") { $0["upstream_request_id"] == ok["request_id"] as? String })
        #expect(call["trace_id"] == Self.caller.traceId.description)
        #expect(call["request_id"] == "\(session)-41", "the proxy's line names the command too")
    }

    @Test func aWebhookCallCarriesTheAPICallersTraceAndRequestId() async throws {
        let webhook = try WebhookTestServer()
        defer { webhook.stop() }
        let gateway = try Fixture.gateway(["--push-webhook-url", webhook.url, "--log-level", "debug"])
        let backend = APIClient(port: gateway.port, token: Fixture.minter.token(user: "svc-social", extra: ["scope": "social:notify"]))
        let body = try JSONSerialization.data(withJSONObject: [
            "user_ids": ["ben"], "type": "kudos", "title": "Nice ride", "body": "42 km", "priority": "normal"])
        let response = try backend.call("POST", "/api/v1/notifications", body: String(decoding: body, as: UTF8.self),
                                        headers: ["traceparent": Self.caller.traceparent, "X-Request-Id": "kudos-batch-7"])
        #expect(response.status == 201)

        // Ben has no device online: the push service is called.
        let pushed = try #require(await webhook.waitForRequests(1).first)
        let sent = try #require(header(pushed.headers, "traceparent").flatMap { TraceContext(traceparent: $0) })
        #expect(sent.traceId == Self.caller.traceId)
        #expect(sent.spanId != Self.caller.spanId)
        #expect(header(pushed.headers, "X-Request-Id") == "kudos-batch-7")

        let api = try #require(gateway.waitForLogLine("api") { $0["request_id"] == "kudos-batch-7" })
        #expect(api["trace_id"] == Self.caller.traceId.description)
        #expect(api["span_id"] == sent.spanId.description, "the webhook's parent is the gateway's span of the API call")
    }

    @Test func anEventDeliveredOnAnotherNodeLogsTheSameTraceId() throws {
        let cluster = try Cluster(nodes: 2, extra: ["--log-level", "debug"])
        let (a, b) = (cluster.nodes[0], cluster.nodes[1])
        let (alice, session) = try connect(a, "alice")
        let bob = try Fixture.client(b, "bob")
        let group = try #require((alice.ok("group.create", ["title": "Track club", "open": true])?["group"] as? [String: Any])?["group_id"] as? String)
        #expect(bob.ok("group.join", ["group_id": group], timeout: 30) != nil)

        let sent = try traced(alice, id: 77, "chat.send", ["chat_id": group, "text": "800s at 6", "client_msg_id": "t-1"])
        let seq = try #require(((sent["ok"] as? [String: Any])?["message"] as? [String: Any])?["seq"] as? Int)
        #expect(bob.event("message.new", timeout: 30) { ($0["message"] as? [String: Any])?["seq"] as? Int == seq } != nil)

        let command = try #require(a.waitForLogLine("command") { $0["request_id"] == "\(session)-77" })
        #expect(command["trace_id"] == Self.caller.traceId.description)
        let delivered = try #require(b.waitForLogLine("deliver") {
            $0["trace_id"] == Self.caller.traceId.description && $0["event"] == "message.new"
        }, "node B logs its delivery of the event in the caller's trace")
        #expect(delivered["parent_id"] == command["span_id"], "the span that published it, on node A")
        #expect(delivered["topic"] == "chat:\(group)")
    }
}
