import Foundation
import SocialTesting
import Testing

/// `proxy.request` through a gateway process to a real HTTP upstream
/// (`Tests/upstream/echo_upstream.py`, which echoes what it received).
@Suite struct ProxyTests {
    init() async throws { try await Fixture.prepare() }

    /// A gateway proxying `training` (and `control`, the same server's
    /// failure switch, which has its own breaker) to `upstream`.
    private func gateway(_ upstream: UpstreamTestServer, _ extra: [String] = []) throws -> GatewayProcess {
        try Fixture.gateway([
            "--upstream", "training=\(upstream.url)/api", "--upstream", "control=\(upstream.url)",
            "--upstream-allow", "training=GET,POST:/v1/workouts,/v1/plans",
            "--upstream-allow", "training=GET:/v1/slow,/v1/text,/v1/binary,/v1/big",
            "--upstream-allow", "control=POST:/_control",
        ] + extra)
    }

    private func error(_ reply: [String: Any]?) -> [String: Any]? { reply?["error"] as? [String: Any] }

    @Test func forwardsTheCallersIdentityAndReturnsTheAnswer() throws {
        let upstream = try UpstreamTestServer.start()
        let gateway = try gateway(upstream)
        let token = Fixture.minter.token(user: "maya")
        let client = try TestClient.connect(Fixture.loop, port: gateway.port, token: token, query: "?device_id=watch-7")
        #expect(client.event("hello") != nil)

        let ok = try #require(client.ok("proxy.request", [
            "service": "training", "method": "POST", "path": "/v1/workouts?draft=true",
            "body": ["sport": "run", "distance_m": 5200],
        ]))
        #expect(ok["status"] as? Int == 200)
        let echo = try #require(ok["body"] as? [String: Any])
        #expect(echo["method"] as? String == "POST")
        #expect(echo["path"] as? String == "/api/v1/workouts?draft=true")
        let headers = try #require(echo["headers"] as? [String: String])
        #expect(headers["authorization"] == "Bearer \(token)")
        #expect(headers["x-user-id"] == "maya")
        #expect(headers["x-device-id"] == "watch-7")
        #expect(headers["x-request-id"] == ok["request_id"] as? String)
        #expect((ok["request_id"] as? String)?.count == 32)
        #expect((echo["body"] as? [String: Any])?["distance_m"] as? Int == 5200)
        let returned = try #require(ok["headers"] as? [String: String])
        #expect(returned["etag"] == "\"v1\"")
        #expect(returned["content-type"] == "application/json")
        #expect(returned["x-internal-secret"] == nil, "only documented headers come back")

        // Text comes back as text; other types leave the body out.
        let text = try #require(client.ok("proxy.request", ["service": "training", "method": "GET", "path": "/v1/text"]))
        #expect(text["text"] as? String == "plain words\n" && text["body"] == nil)
        let binary = try #require(client.ok("proxy.request", ["service": "training", "method": "GET", "path": "/v1/binary"]))
        #expect(binary["text"] == nil && binary["body"] == nil)
        #expect((binary["headers"] as? [String: String])?["content-type"] == "application/octet-stream")
        // An upstream's 404 is a result, not an error.
        let missing = try #require(client.ok("proxy.request", ["service": "training", "method": "GET", "path": "/v1/plans/missing/status/404"]))
        #expect(missing["status"] as? Int == 404)

        // The calls are counted per service and status.
        let metrics = try RawSocket.http(port: gateway.port, path: "/metrics").body
        #expect(metrics.contains(#"social_proxy_requests_total{service="training",status="200"}"#)
                || metrics.contains(#"social_proxy_requests_total{status="200",service="training"}"#))
        #expect(metrics.contains("social_proxy_duration_seconds"))
    }

    @Test func refusesWhatTheAllowlistDoesNotName() throws {
        let upstream = try UpstreamTestServer.start()
        let gateway = try gateway(upstream)
        let client = try Fixture.client(gateway, "maya")
        func code(_ service: String, _ method: String, _ path: String, body: Any? = nil) -> String? {
            var args: [String: Any] = ["service": service, "method": method, "path": path]
            if let body { args["body"] = body }
            return error(client.command("proxy.request", args))?["code"] as? String
        }
        #expect(code("training", "GET", "/v1/workouts") == nil)
        #expect(code("training", "GET", "/v1/admin") == "forbidden")
        #expect(code("training", "DELETE", "/v1/workouts/1") == "forbidden")
        #expect(code("training", "GET", "/v1/workoutsX") == "forbidden")
        #expect(code("control", "GET", "/_control/fail") == "forbidden")
        #expect(code("billing", "GET", "/v1/workouts") == "invalid_args")
        #expect(code("training", "TRACE", "/v1/workouts") == "invalid_args")
        #expect(code("training", "GET", "/v1/workouts", body: ["a": 1]) == "invalid_args")
        for trick in [
            "http://evil.example/v1/workouts", "//evil.example/v1/workouts", "v1/workouts",
            "/v1/workouts/../../admin", "/v1/workouts/%2e%2e/%2e%2e/admin", "/v1/workouts%2f..%2f..%2fadmin",
            "/v1/workouts\\..\\admin", "/v1/workouts/%252e%252e/admin", "/v1/workouts/%5c..", "/v1//workouts",
            "/v1/workouts\r\nX-User-Id: admin", "/v1/workouts#x",
        ] {
            let refused = error(client.command("proxy.request", ["service": "training", "method": "GET", "path": trick]))
            #expect(refused?["code"] as? String == "invalid_args", "\(trick)")
            #expect((refused?["message"] as? String)?.hasPrefix("path:") == true, "\(trick)")
        }
    }

    @Test func withoutUpstreamsEveryServiceIsUnknown() throws {
        let gateway = try Fixture.gateway()
        let client = try Fixture.client(gateway, "maya")
        let refused = error(client.command("proxy.request", ["service": "training", "method": "GET", "path": "/v1/workouts"]))
        #expect(refused?["code"] as? String == "invalid_args")
    }

    @Test func aSlowUpstreamTimesOutWhilePingsAndOtherSessionsGoOn() throws {
        let upstream = try UpstreamTestServer.start()
        let gateway = try gateway(upstream, ["--proxy-timeout-ms", "1500"])
        let maya = try Fixture.client(gateway, "maya")
        let leo = try Fixture.client(gateway, "leo")
        let started = Date()
        maya.send(#"{"id":500,"op":"proxy.request","args":{"service":"training","method":"GET","path":"/v1/slow?ms=8000"}}"#)
        for id in 501...505 {
            Thread.sleep(forTimeInterval: 0.05)
            maya.send(#"{"id":\#(id),"op":"ping"}"#)
        }
        // Another session's commands are not held up by the slow call.
        #expect(leo.ok("group.create", ["title": "Evening ride"]) != nil)
        #expect(leo.ok("proxy.request", ["service": "training", "method": "GET", "path": "/v1/workouts"])?["status"] as? Int == 200)

        var order: [Int] = []
        var proxyReply: [String: Any]?
        while order.count < 6, let frame = maya.next(timeout: 10, where: { $0["id"] is Int && $0["event"] == nil }) {
            let id = frame["id"] as! Int
            order.append(id)
            if id == 500 { proxyReply = frame }
        }
        #expect(order == [501, 502, 503, 504, 505, 500], "every ping is answered before the slow call ends")
        let refused = try #require(error(proxyReply))
        #expect(refused["code"] as? String == "timeout")
        #expect(refused["temporary"] as? Bool == true)
        #expect(Date().timeIntervalSince(started) < 7, "the timeout came well before the upstream's answer")
    }

    @Test func theBreakerOpensAfterFailuresAndClosesWhenTheUpstreamRecovers() throws {
        let upstream = try UpstreamTestServer.start()
        let gateway = try gateway(upstream, ["--proxy-breaker-failures", "3", "--proxy-breaker-open-ms", "1000"])
        let client = try Fixture.client(gateway, "maya")
        let workouts: [String: Any] = ["service": "training", "method": "GET", "path": "/v1/workouts"]
        func setFailing(_ failing: Bool) {
            let ok = client.ok("proxy.request", ["service": "control", "method": "POST", "path": "/_control/fail",
                                                 "body": ["fail": failing]])
            #expect(ok?["status"] as? Int == 200)
        }

        setFailing(true)
        for _ in 0..<3 { #expect(client.ok("proxy.request", workouts)?["status"] as? Int == 503) }
        // Open: refused at once, without calling the upstream.
        let paused = try #require(error(client.command("proxy.request", workouts)))
        #expect(paused["code"] as? String == "unavailable")
        #expect(paused["temporary"] as? Bool == true)
        #expect((paused["retry_after_ms"] as? Int ?? 0) > 0)

        setFailing(false)  // another service, another breaker
        Thread.sleep(forTimeInterval: 1.2)
        // The trial call succeeds and closes the breaker; calls flow again.
        for _ in 0..<3 { #expect(client.ok("proxy.request", workouts)?["status"] as? Int == 200) }
    }

    @Test func aDownUpstreamGetsATemporaryErrorQuickly() throws {
        let upstream = try UpstreamTestServer.start()
        let gateway = try gateway(upstream)
        let client = try Fixture.client(gateway, "maya")
        upstream.stop()
        let started = Date()
        let refused = try #require(error(client.command("proxy.request", ["service": "training", "method": "GET", "path": "/v1/workouts"])))
        #expect(refused["code"] as? String == "unavailable")
        #expect(refused["temporary"] as? Bool == true)
        #expect(Date().timeIntervalSince(started) < 4, "refused connections fail at once, not after the timeout")
    }
}
