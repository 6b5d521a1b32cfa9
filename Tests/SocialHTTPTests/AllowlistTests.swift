import SocialCore
import SocialProtocol
import Testing
@testable import SocialHTTP

/// `--upstream` and `--upstream-allow` values, and what they let through.
@Suite struct AllowlistTests {
    static let settings = try! ProxySettings(
        upstreams: ["training=http://127.0.0.1:9001/api/", "profile=http://profile.internal"],
        allow: ["training=GET,POST:/v1/workouts,/v1/plans", "training=DELETE:/v1/workouts", "profile=GET:/v1/me"])

    @Test func parsesUpstreams() throws {
        let training = try #require(Self.settings.upstreams["training"])
        #expect(training.host == "127.0.0.1" && training.port == 9001 && training.basePath == "/api")
        #expect(training.hostHeader == "127.0.0.1:9001")
        let profile = try #require(Self.settings.upstreams["profile"])
        #expect(profile.port == 80 && profile.basePath == "" && profile.hostHeader == "profile.internal")
        let v6 = try Upstream(name: "x", url: "http://[::1]:8081")
        #expect(v6.host == "::1" && v6.port == 8081 && v6.hostHeader == "[::1]:8081")
    }

    @Test(arguments: [
        (["training=https://a.example"], [String]()),  // TLS is not supported
        (["training=http://user@a.example"], []),
        (["training=http://a.example:99999"], []),
        (["training=http://a.example/base?q=1"], []),
        (["training=http://a.example/my base"], []),
        (["training=http://a.example/v1/../admin"], []),
        (["Training=http://a.example"], []),  // names are lower case
        (["training"], []),
        (["training=http://a", "training=http://b"], []),  // twice
        (["training=http://a"], ["profile=GET:/v1"]),  // allow for an unknown service
        (["training=http://a"], ["training=GET"]),  // no prefixes
        (["training=http://a"], ["training=TRACE:/v1"]),  // unknown method
        (["training=http://a"], ["training=GET:v1"]),  // relative prefix
        (["training=http://a"], ["training=GET:/v1/../admin"]),
        (["training=http://a"], ["training=GET:/v1?x=1"]),
    ])
    func refusesBadSettings(_ upstreams: [String], _ allow: [String]) {
        #expect(throws: ProxySettingsError.self) { try ProxySettings(upstreams: upstreams, allow: allow) }
    }

    @Test func rulesMatchWholeSegmentsAndTheirMethods() throws {
        let rule = try AllowRule("GET,POST:/v1/workouts/,/v1/plans")
        #expect(rule.prefixes == ["/v1/workouts", "/v1/plans"])
        #expect(rule.allows("GET", "/v1/workouts"))
        #expect(rule.allows("POST", "/v1/workouts/42/laps"))
        #expect(rule.allows("GET", "/v1/plans"))
        #expect(!rule.allows("GET", "/v1/workoutsX"))
        #expect(!rule.allows("GET", "/v1"))
        #expect(!rule.allows("DELETE", "/v1/workouts/42"))
        #expect(!rule.allows("get", "/v1/workouts"))
    }

    private func call(_ service: String, _ method: String, _ path: String, body: [UInt8]? = nil,
                      device: String = "phone") -> UpstreamCall {
        UpstreamCall(service: service, method: method, path: path, body: body, userId: "u1", deviceId: device,
                     accessToken: "tok", requestId: "r1")
    }

    private func refusal(_ proxy: HTTPUpstreamProxy, _ call: UpstreamCall) -> ErrorCode? {
        do {
            _ = try proxy.check(call)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func checksServiceMethodPathAndBody() throws {
        let proxy = HTTPUpstreamProxy(settings: Self.settings, logger: .init(label: "test"))
        let (upstream, target) = try proxy.check(call("training", "GET", "/v1/workouts/7?full=1"))
        #expect(upstream.name == "training" && target == "/api/v1/workouts/7?full=1")
        #expect(refusal(proxy, call("training", "DELETE", "/v1/workouts/7")) == nil)  // a second rule adds up
        #expect(refusal(proxy, call("training", "DELETE", "/v1/plans/7")) == .forbidden)
        #expect(refusal(proxy, call("training", "PUT", "/v1/workouts/7")) == .forbidden)
        #expect(refusal(proxy, call("training", "GET", "/v1/admin")) == .forbidden)
        #expect(refusal(proxy, call("profile", "GET", "/v1/workouts")) == .forbidden)  // another service's prefix
        #expect(refusal(proxy, call("billing", "GET", "/v1/me")) == .invalidArgs)
        #expect(refusal(proxy, call("training", "TRACE", "/v1/workouts")) == .invalidArgs)
        #expect(refusal(proxy, call("training", "GET", "/v1/workouts/../../admin")) == .invalidArgs)
        #expect(refusal(proxy, call("training", "GET", "/v1/workouts", body: Array("{}".utf8))) == .invalidArgs)
        #expect(refusal(proxy, call("training", "GET", "/v1/workouts", device: "a\r\nX-User-Id: admin")) == .forbidden)
    }

    @Test func requestCarriesTheIdentityAndAJSONBody() {
        let bytes = HTTPExchange.request(method: "POST", target: "/api/v1/workouts", host: "h:1",
                                         headers: [("Authorization", "Bearer t"), ("X-User-Id", "u1")],
                                         body: Array(#"{"a":1}"#.utf8))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("POST /api/v1/workouts HTTP/1.1\r\nHost: h:1\r\nAuthorization: Bearer t\r\nX-User-Id: u1\r\n"))
        #expect(text.hasSuffix("Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"))
    }
}
