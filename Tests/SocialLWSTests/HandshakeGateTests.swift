import Foundation
import Testing
import SocialAuth
import SocialTesting
@testable import SocialLWS

@Suite struct HandshakeGateTests {
    static let secret = "handshake-gate-secret-0123456789abcdef"

    func gate(origins: Set<String> = []) async throws -> HandshakeGate {
        HandshakeGate(verifier: try await TokenVerifier.make(AuthSettings(hmacSecret: Self.secret)), allowedOrigins: origins)
    }

    func request(_ token: String?, path: String = "/ws", origin: String? = nil, version: String? = "13",
                 protocols: String? = nil, device: String? = nil, query: String? = nil) -> HandshakeRequest {
        HandshakeRequest(path: path, authorization: token.map { "Bearer \($0)" }, accessTokenQuery: query,
                         deviceIdQuery: device, origin: origin, version: version, protocols: protocols)
    }

    @Test func theAuthorizationSchemeIsMatchedWithoutRegardToCase() {
        #expect(HandshakeGate.credentials("Bearer abc", scheme: "bearer ") == "abc")
        #expect(HandshakeGate.credentials("bEARER  abc ", scheme: "bearer ") == " abc ")
        #expect(HandshakeGate.credentials("BOT bot_a:s", scheme: "bot ") == "bot_a:s")
        #expect(HandshakeGate.credentials("Bearer ", scheme: "bearer ") == nil, "nothing after the scheme")
        #expect(HandshakeGate.credentials("Bearer", scheme: "bearer ") == nil)
        #expect(HandshakeGate.credentials("Bearerabc", scheme: "bearer ") == nil)
        #expect(HandshakeGate.credentials("Basic abc", scheme: "bearer ") == nil)
        #expect(HandshakeGate.credentials("Bearer \u{e9}t\u{e9}", scheme: "bearer ") == "\u{e9}t\u{e9}")
    }

    @Test func acceptsAValidTokenWithItsDevice() async throws {
        let minter = try await TokenMinter.make(secret: Self.secret)
        let decision = try await gate().evaluate(request(minter.token(user: "alice"), device: "phone-1"),
                                                 now: Date().timeIntervalSince1970)
        guard case .accept(let identity, let device) = decision else {
            Issue.record("refused: \(decision)")
            return
        }
        #expect(identity.userId == "alice")
        #expect(device == "phone-1")
    }

    @Test func checksRunInOrderPathVersionProtocolOriginToken() async throws {
        let minter = try await TokenMinter.make(secret: Self.secret)
        let token = minter.token(user: "alice")
        let gate = try await gate(origins: ["https://app.example.com"])
        let now = Date().timeIntervalSince1970
        func status(_ r: HandshakeRequest) -> UInt32? {
            if case .reject(let status, _, _) = gate.evaluate(r, now: now) { return status }
            return nil
        }
        #expect(status(request(nil, path: "/x")) == 404)
        #expect(status(request(nil, version: "8")) == 400)
        #expect(status(request(token, protocols: "chat, mqtt")) == 400)
        #expect(status(request(token, protocols: "chat, social.v1")) == nil)
        #expect(status(request(token, origin: "https://evil.example.com")) == 403)
        #expect(status(request(token, origin: "https://app.example.com")) == nil)
        #expect(status(request(nil)) == 401)
        #expect(status(request("garbage")) == 401)
        #expect(status(request(nil, query: token)) == nil, "access_token query parameter")
        #expect(status(request(token, device: "has space")) == 400)
        #expect(status(request(token, device: String(repeating: "d", count: 65))) == 400)
    }
}
