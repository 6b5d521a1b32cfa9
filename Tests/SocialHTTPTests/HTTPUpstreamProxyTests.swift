import Foundation
import Logging
import SocialCore
import SocialProtocol
import SocialTesting
import Testing
@testable import SocialHTTP

/// The proxy's HTTP side against a real HTTP/1.1 server (`echo_upstream.py`):
/// framing, headers, limits, timeouts and the breaker, without a gateway.
@Suite(.serialized) struct HTTPUpstreamProxyTests {
    let server: UpstreamTestServer

    init() throws { server = try UpstreamTestServer.start() }

    private func proxy(_ tune: (inout ProxySettings) -> Void = { _ in }) throws -> HTTPUpstreamProxy {
        var settings = try ProxySettings(upstreams: ["training=\(server.url)/api"],
                                         allow: ["training=GET,HEAD,POST,PUT,PATCH,DELETE:/v1"])
        settings.workers = 4
        tune(&settings)
        return HTTPUpstreamProxy(settings: settings, logger: Logger(label: "test"))
    }

    private func call(_ method: String, _ path: String, body: String? = nil, user: String = "u_maya") -> UpstreamCall {
        UpstreamCall(service: "training", method: method, path: path, body: body.map { Array($0.utf8) },
                     userId: user, deviceId: "phone-1", accessToken: "token-abc", requestId: "req-1")
    }

    private func json(_ response: UpstreamResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    private func failure(_ proxy: HTTPUpstreamProxy, _ call: UpstreamCall) async -> ProxyFailure? {
        do {
            _ = try await proxy.forward(call)
            return nil
        } catch {
            return error as? ProxyFailure
        }
    }

    @Test func forwardsIdentityMethodPathAndBody() async throws {
        let proxy = try proxy()
        let response = try await proxy.forward(call("POST", "/v1/workouts?draft=1", body: #"{"sport":"run","km":5.2}"#))
        #expect(response.status == 200)
        let echo = try json(response)
        #expect(echo["method"] as? String == "POST")
        #expect(echo["path"] as? String == "/api/v1/workouts?draft=1")
        let headers = try #require(echo["headers"] as? [String: String])
        #expect(headers["authorization"] == "Bearer token-abc")
        #expect(headers["x-user-id"] == "u_maya")
        #expect(headers["x-device-id"] == "phone-1")
        #expect(headers["x-request-id"] == "req-1")
        #expect(headers["content-type"] == "application/json")
        #expect(headers["host"] == "127.0.0.1:\(server.port)")
        let body = try #require(echo["body"] as? [String: Any])
        #expect(body["sport"] as? String == "run")
        // Only the documented headers come back.
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.headers["etag"] == "\"v1\"")
        #expect(response.headers["cache-control"] == "private, max-age=5")
        #expect(response.headers["x-internal-secret"] == nil)
        #expect(response.headers["content-length"] == nil)
    }

    @Test func reusesConnectionsAndReadsEveryFraming() async throws {
        let proxy = try proxy()
        for _ in 0..<3 {
            let chunked = try await proxy.forward(call("GET", "/v1/chunked"))
            #expect(try json(chunked)["path"] as? String == "/api/v1/chunked")
            let head = try await proxy.forward(call("HEAD", "/v1/workouts"))
            #expect(head.status == 200 && head.body.isEmpty)
            let text = try await proxy.forward(call("GET", "/v1/text"))
            #expect(text.body == Array("plain words\n".utf8))
            let binary = try await proxy.forward(call("GET", "/v1/binary"))
            #expect(binary.body == (0...255).map { UInt8($0) })
            let status = try await proxy.forward(call("DELETE", "/v1/status/404"))
            #expect(status.status == 404)
        }
    }

    @Test func refusesResponsesOverTheLimit() async throws {
        let proxy = try proxy { $0.maxResponseBytes = 10_000 }
        let small = try await proxy.forward(call("GET", "/v1/big?bytes=9000"))
        #expect(small.body.count == 9002)
        #expect(await failure(proxy, call("GET", "/v1/big?bytes=20000"))?.code == .tooLarge)
        // The connection it came on is dropped, the next call is fine.
        #expect(try await proxy.forward(call("GET", "/v1/workouts")).status == 200)
    }

    @Test func aSlowUpstreamTimesOut() async throws {
        let proxy = try proxy { $0.timeoutMs = 300 }
        let start = ContinuousClock.now
        let refused = await failure(proxy, call("GET", "/v1/slow?ms=3000"))
        #expect(refused?.code == .timeout)
        #expect(refused?.body.temporary == true)
        #expect(ContinuousClock.now - start < .seconds(2.5))  // well before the upstream answers
    }

    @Test func aDownUpstreamIsUnavailable() async throws {
        let proxy = try proxy()
        server.stop()
        let refused = await failure(proxy, call("GET", "/v1/workouts"))
        #expect(refused?.code == .unavailable)
        #expect(refused?.body.temporary == true)
    }

    @Test func aConnectThatHangsTimesOut() async throws {
        let listener = try BacklogFullListener()
        var settings = try ProxySettings(upstreams: ["training=http://127.0.0.1:\(listener.port)"],
                                         allow: ["training=GET:/v1"])
        settings.connectTimeoutMs = 200
        settings.timeoutMs = 5000
        let proxy = HTTPUpstreamProxy(settings: settings, logger: Logger(label: "test"))
        let refused = await failure(proxy, call("GET", "/v1/workouts"))
        #expect(refused?.code == .timeout)
        #expect(refused?.body.message.contains("connection") == true)
    }

    @Test func limitsCallsPerUser() async throws {
        let proxy = try proxy { $0.maxPerUser = 2 }
        async let first = proxy.forward(call("GET", "/v1/slow?ms=3000"))
        async let second = proxy.forward(call("GET", "/v1/slow?ms=3000"))
        for _ in 0..<250 where proxy.perUser.inFlight("u_maya") < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(proxy.perUser.inFlight("u_maya") == 2)
        #expect(await failure(proxy, call("GET", "/v1/workouts"))?.code == .overloaded)
        #expect(try await proxy.forward(call("GET", "/v1/workouts", user: "u_leo")).status == 200)
        _ = try await (first, second)
        #expect(try await proxy.forward(call("GET", "/v1/workouts")).status == 200)
    }

    @Test func theBreakerOpensOnFailuresAndClosesAfterATrial() async throws {
        let clock = ManualMillis()
        var settings = try ProxySettings(upstreams: ["training=\(server.url)"], allow: ["training=GET,POST:/v1"])
        settings.breakerFailures = 3
        settings.breakerOpenMs = 1000
        let proxy = HTTPUpstreamProxy(settings: settings, logger: Logger(label: "test"), clock: { clock.now })
        _ = try await proxy.forward(call("POST", "/v1/_control/fail", body: #"{"fail":true}"#))
        for _ in 0..<3 {
            #expect(try await proxy.forward(call("GET", "/v1/workouts")).status == 503)  // 5xx pass through
        }
        #expect(proxy.breakerState("training") == .open(until: 1000))
        let paused = await failure(proxy, call("GET", "/v1/workouts"))
        #expect(paused?.code == .unavailable && paused?.body.retryAfterMs == 1000)
        clock.now = 1000  // the trial call fails: open again
        #expect(try await proxy.forward(call("GET", "/v1/workouts")).status == 503)
        #expect(proxy.breakerState("training") == .open(until: 2000))
        clock.now = 2000  // the trial call is the control call that heals the upstream
        _ = try await proxy.forward(call("POST", "/v1/_control/fail", body: #"{"fail":false}"#))
        #expect(proxy.breakerState("training") == .closed(failures: 0))
        #expect(try await proxy.forward(call("GET", "/v1/workouts")).status == 200)
    }
}

/// Milliseconds a test sets by hand.
final class ManualMillis: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64 = 0
    var now: Int64 {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
}

/// A listener whose accept queue is full (backlog 0, never accepting, filled
/// by its own connections): Linux drops further SYNs, so a connect hangs.
final class BacklogFullListener {
    let port: Int
    private let listener: Int32
    private var fillers: [RawSocket] = []

    init() throws {
        (listener, port) = try openLoopbackListener(backlog: 0)
        for _ in 0..<4 { if let filler = try? RawSocket(port: port, timeout: 0.3) { fillers.append(filler) } }
    }

    deinit { close(listener) }
}
