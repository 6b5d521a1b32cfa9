import Foundation
import Testing
import SocialAuth
import SocialTesting
@testable import SocialLWS

/// `Authorization: Bot <bot_id>:<secret>` at the handshake, checked without I/O.
@Suite struct HandshakeGateBotTests {
    static let secret = "handshake-gate-secret-0123456789abcdef"

    func request(_ authorization: String) -> HandshakeRequest {
        HandshakeRequest(path: "/ws", authorization: authorization, accessTokenQuery: nil, deviceIdQuery: nil,
                         origin: nil, version: "13", protocols: nil)
    }

    @Test func aBotCredentialIsAcceptedAsABotAndRefusedWhenWrongOrDisabled() async throws {
        let verifier = try await TokenVerifier.make(AuthSettings(hmacSecret: Self.secret))
        let bots = BotCredentials()
        let secret = BotCredentials.makeSecret()
        bots.replaceAll([.init(id: "bot_a", secretHash: BotCredentials.hash(secret), scopes: ["chat:read"], disabled: false)])
        let gate = HandshakeGate(verifier: verifier, allowedOrigins: [], bots: bots)
        let now = Date().timeIntervalSince1970

        guard case .accept(let identity, let device) = gate.evaluate(request("Bot bot_a:\(secret)"), now: now) else {
            Issue.record("bot refused")
            return
        }
        #expect(identity.isBot && identity.userId == "bot_a" && identity.scopes == ["chat:read"])
        #expect(device == "bot")

        func status(_ header: String) -> UInt32? {
            if case .reject(let status, _, _) = gate.evaluate(request(header), now: now) { return status }
            return nil
        }
        #expect(status("Bot bot_a:wrong") == 401)
        #expect(status("Bot bot_b:\(secret)") == 401)
        bots.update(.init(id: "bot_a", secretHash: BotCredentials.hash(secret), scopes: [], disabled: true))
        #expect(status("Bot bot_a:\(secret)") == 401)
        // Without a directory, bot credentials are refused outright.
        let plain = HandshakeGate(verifier: verifier, allowedOrigins: [])
        if case .reject(let status, _, let message) = plain.evaluate(request("Bot bot_a:\(secret)"), now: now) {
            #expect(status == 401)
            #expect(message.contains("not enabled"))
        } else {
            Issue.record("accepted without a directory")
        }
    }
}
