import SocialCore
import SocialProtocol
import Testing
@testable import SocialHTTP

/// The client's path is appended to an upstream's address: only plain
/// absolute paths may pass, whatever the encoding tricks.
@Suite struct ProxyPathTests {
    @Test(arguments: [
        "/v1/workouts", "/v1/workouts/42", "/v1/workouts/", "/v1/workouts?limit=20&after=a%2Fb",
        "/v1/users/%C3%A9lodie", "/v1/plans/a-b_c~d:e@f", "/", "/v1/search?q=a/b?c",
    ])
    func acceptsPlainAbsolutePaths(_ raw: String) throws {
        let parsed = try ProxyPath(raw)
        #expect(parsed.target(under: "") == raw)
        #expect(parsed.target(under: "/api") == "/api" + raw)
    }

    @Test func splitsThePathFromTheQuery() throws {
        let parsed = try ProxyPath("/v1/workouts?limit=20")
        #expect(parsed.path == "/v1/workouts")
        #expect(parsed.query == "limit=20")
        #expect(try ProxyPath("/v1/x").query == nil)
    }

    @Test(arguments: [
        "http://evil.example/v1/workouts",  // absolute URL
        "//evil.example/v1/workouts",  // network-path reference: another host
        "v1/workouts",  // relative
        "",
        "/v1/../admin",  // dot segments
        "/v1/workouts/..",
        "/v1/./workouts",
        "/v1/%2e%2e/admin",  // encoded dot segments
        "/v1/%2E%2E/admin",
        "/v1/.%2e/admin",
        "/v1/workouts%2f..%2fadmin",  // encoded slash
        "/v1/workouts%2F42",
        "/v1/workouts%5c..%5cadmin",  // encoded backslash
        "/v1\\..\\admin",  // backslash
        "/v1/%252e%252e/admin",  // double encoding
        "/v1/workouts%00",  // encoded NUL
        "/v1/work outs",  // space
        "/v1/workouts#frag",
        "/v1/workouts\r\nX-Injected: 1",  // header injection
        "/v1/wörkouts",  // raw non-ASCII
        "/v1//workouts",  // empty segment
        "/v1/workouts%zz",  // malformed escapes
        "/v1/workouts%2",
        "/v1/workouts?q=%G0",
    ])
    func refusesTricks(_ raw: String) {
        #expect(throws: ProxyFailure.self) { try ProxyPath(raw) }
        do {
            _ = try ProxyPath(raw)
        } catch {
            #expect(error.code == .invalidArgs)
            #expect(error.body.message.hasPrefix("path:"))
        }
    }

    @Test func refusesPathsOverTheLimit() {
        #expect(throws: ProxyFailure.self) { try ProxyPath("/" + String(repeating: "a", count: ProxyPath.maxBytes)) }
        #expect(throws: Never.self) { try ProxyPath("/" + String(repeating: "a", count: ProxyPath.maxBytes - 1)) }
    }
}
