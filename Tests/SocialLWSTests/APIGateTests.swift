import Foundation
import Testing
import SocialAuth
import SocialCore
import SocialTesting
@testable import SocialLWS

@Suite struct APIGateTests {
    static let secret = "api-gate-secret-0123456789abcdef-xyz"

    func gate(maxBody: Int = 1024) async throws -> APIGate {
        let routes = [
            APIRoute("POST", "/api/v1/bots", scope: "social:admin") { _ in .noContent },
            APIRoute("DELETE", "/api/v1/bots/{id}", scope: "social:admin") { _ in .noContent },
            APIRoute("POST", "/api/v1/chats/{chat}/messages", scope: "social:post") { _ in .noContent },
        ]
        return APIGate(verifier: try await TokenVerifier.make(AuthSettings(hmacSecret: Self.secret)),
                       router: APIRouter(routes), maxBodyBytes: maxBody)
    }

    func head(_ method: String, _ path: String, token: String?, length: Int? = nil, type: String? = nil) -> APIRequestHead {
        APIRequestHead(method: method, path: path, authorization: token.map { "Bearer \($0)" },
                       contentType: type, contentLength: length)
    }

    func status(_ decision: APIGate.Decision) -> Int {
        if case .refuse(let refusal) = decision { return refusal.problem.status }
        return 200
    }

    @Test func admitsATokenWithTheScopeAndBindsPathParameters() async throws {
        let minter = try await TokenMinter.make(secret: Self.secret)
        let token = minter.token(user: "svc-billing", extra: ["scope": "social:post other"])
        let decision = try await gate().evaluate(head("POST", "/api/v1/chats/g_1/messages", token: token, length: 10,
                                                      type: "application/json; charset=utf-8"),
                                                 now: Date().timeIntervalSince1970)
        guard case .admit(let route, let request) = decision else {
            Issue.record("refused: \(decision)")
            return
        }
        #expect(route.pattern == "/api/v1/chats/{chat}/messages")
        #expect(request.pathParameters == ["chat": "g_1"])
        #expect(request.clientId == "svc-billing")
        #expect(request.scopes == ["social:post", "other"])
        #expect(!request.requestId.isEmpty)
    }

    @Test func refusesInOrderSizeTokenRouteScopeMediaType() async throws {
        let minter = try await TokenMinter.make(secret: Self.secret)
        let admin = minter.token(user: "ops", extra: ["scope": "social:admin"])
        let gate = try await gate()
        let now = Date().timeIntervalSince1970
        #expect(status(gate.evaluate(head("POST", "/api/v1/bots", token: nil, length: 5000), now: now)) == 413)
        #expect(status(gate.evaluate(head("POST", "/api/v1/bots", token: nil), now: now)) == 401)
        #expect(status(gate.evaluate(head("POST", "/api/v1/bots", token: "x.y.z"), now: now)) == 401)
        #expect(status(gate.evaluate(head("POST", "/api/v1/nope", token: admin), now: now)) == 404)
        #expect(status(gate.evaluate(head("GET", "/api/v1/bots/b1", token: admin), now: now)) == 405)
        #expect(status(gate.evaluate(head("POST", "/api/v1/chats/c/messages", token: admin), now: now)) == 403)
        #expect(status(gate.evaluate(head("POST", "/api/v1/bots", token: admin, length: 3, type: "text/plain"), now: now)) == 415)
        #expect(status(gate.evaluate(head("POST", "/api/v1/bots", token: admin, length: 3, type: "application/json"), now: now)) == 200)
        var chunked = head("POST", "/api/v1/bots", token: admin)
        chunked.chunked = true
        #expect(status(gate.evaluate(chunked, now: now)) == 411)
    }

    @Test func refusalsCarryTheirChallengeOrAllowHeader() async throws {
        let minter = try await TokenMinter.make(secret: Self.secret)
        let gate = try await gate()
        let now = Date().timeIntervalSince1970
        guard case .refuse(let missing) = gate.evaluate(head("POST", "/api/v1/bots", token: nil), now: now),
              case .refuse(let scope) = gate.evaluate(head("POST", "/api/v1/bots", token: minter.token(user: "u")), now: now),
              case .refuse(let method) = gate.evaluate(head("PUT", "/api/v1/bots/b", token: minter.token(user: "u")), now: now)
        else {
            Issue.record("expected refusals")
            return
        }
        #expect(missing.header?.name == "WWW-Authenticate:")
        #expect(scope.header?.value.contains(#"scope="social:admin""#) == true)
        #expect(method.header?.name == "Allow:")
        #expect(method.header?.value == "DELETE")
    }
}
