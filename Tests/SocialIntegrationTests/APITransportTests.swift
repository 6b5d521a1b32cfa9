import Foundation
import Testing
import SocialTesting

/// The backend HTTP API's transport over a real socket: client-credentials
/// tokens, scopes, problem bodies, routing, the body cap; and force-disconnect.
@Suite struct APITransportTests {
    init() async throws { try await Fixture.prepare() }

    static func backendToken(scope: String) -> String {
        Fixture.minter.token(user: "svc-backend", extra: ["scope": scope])
    }

    /// A refusal is an RFC 9457 problem body whose status matches the response.
    func expectProblem(_ response: HTTPResponse, _ status: Int, mentions: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == status, "\(response.status) \(response.body)", sourceLocation: sourceLocation)
        #expect(response.headers["content-type"] == "application/problem+json", sourceLocation: sourceLocation)
        let problem = response.json
        #expect(problem?["status"] as? Int == status, sourceLocation: sourceLocation)
        #expect((problem?["title"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        if let mentions {
            #expect((problem?["detail"] as? String)?.contains(mentions) == true, "\(response.body)", sourceLocation: sourceLocation)
        }
    }

    @Test func missingOrBadTokensGet401WithAChallenge() throws {
        let gateway = try Fixture.gateway()
        let path = "/api/v1/users/alice/disconnect"

        let missing = try APIClient(port: gateway.port, token: nil).call("POST", path)
        expectProblem(missing, 401, mentions: "Bearer")
        #expect(missing.headers["www-authenticate"]?.hasPrefix("Bearer") == true)

        let forged = TokenMinter.unsigned(claims: TokenMinter.claims(user: "svc", extra: ["scope": "social:admin"]))
        let bad = try APIClient(port: gateway.port, token: forged).call("POST", path)
        expectProblem(bad, 401)
        #expect(bad.headers["www-authenticate"]?.contains("invalid_token") == true)

        let expired = Fixture.minter.token(user: "svc", ttl: -3600, extra: ["scope": "social:admin"])
        expectProblem(try APIClient(port: gateway.port, token: expired).call("POST", path), 401, mentions: "expired")
    }

    @Test func aTokenWithoutTheEndpointsScopeGets403() throws {
        let gateway = try Fixture.gateway()
        let api = APIClient(port: gateway.port, token: Self.backendToken(scope: "social:notify social:post"))
        let response = try api.call("POST", "/api/v1/users/alice/disconnect")
        expectProblem(response, 403, mentions: "social:admin")
        #expect(response.headers["www-authenticate"]?.contains("insufficient_scope") == true)
        // A user's access token (no scope at all) is refused the same way.
        let user = APIClient(port: gateway.port, token: Fixture.token("alice"))
        expectProblem(try user.call("POST", "/api/v1/users/alice/disconnect"), 403)
    }

    @Test func unknownPathsWrongMethodsAndBadBodiesGetProblems() throws {
        let gateway = try Fixture.gateway()
        let api = APIClient(port: gateway.port, token: Self.backendToken(scope: "social:admin"))

        expectProblem(try api.call("GET", "/api/v1/teleport"), 404)
        let wrongMethod = try api.call("GET", "/api/v1/users/alice/disconnect")
        expectProblem(wrongMethod, 405)
        #expect(wrongMethod.headers["allow"] == "POST")

        expectProblem(try api.call("POST", "/api/v1/users/alice/disconnect", body: "{not json"), 400, mentions: "malformed JSON")
        expectProblem(try api.call("POST", "/api/v1/users/alice/disconnect", body: #"{"reason": 42}"#), 400, mentions: "reason")
        expectProblem(try api.call("POST", "/api/v1/users/alice/disconnect", body: "x=1",
                                   headers: ["Content-Type": "application/x-www-form-urlencoded"]), 415)
        let long = String(repeating: "r", count: 200)
        expectProblem(try api.call("POST", "/api/v1/users/alice/disconnect", json: ["reason": long]), 400, mentions: "120")

        // The node still serves after all that.
        #expect(try RawSocket.http(port: gateway.port, path: "/healthz").status == 200)
    }

    @Test func bodiesOverTheCapGet413AndTheNodeKeepsServing() throws {
        let gateway = try Fixture.gateway(["--api-max-body-bytes", "1024"])
        let api = APIClient(port: gateway.port, token: Self.backendToken(scope: "social:admin"))
        let big = #"{"reason":""# + String(repeating: "x", count: 3000) + #""}"#
        expectProblem(try api.call("POST", "/api/v1/users/alice/disconnect", body: big), 413, mentions: "1024")
        // Under the cap is served.
        #expect(try api.call("POST", "/api/v1/users/alice/disconnect", json: ["reason": "ok"]).status == 202)
        #expect(try RawSocket.http(port: gateway.port, path: "/healthz").status == 200)
    }

    @Test func aClientThatHangsUpBeforeTheAnswerDoesNotHurtTheNode() throws {
        let gateway = try Fixture.gateway()
        let token = Self.backendToken(scope: "social:admin")
        for _ in 0..<20 {
            let socket = try RawSocket(port: gateway.port)
            let body = #"{"reason":"bye"}"#
            try socket.send("POST /api/v1/users/nobody/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
                            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            // Dropped without reading.
        }
        // A half-sent body, then a hang-up.
        let half = try RawSocket(port: gateway.port)
        try half.send("POST /api/v1/users/nobody/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
                      + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"rea")
        _ = half
        let api = APIClient(port: gateway.port, token: token)
        #expect(try api.call("POST", "/api/v1/users/nobody/disconnect").status == 202)
        #expect(try RawSocket.http(port: gateway.port, path: "/healthz").status == 200)
    }

    @Test func oneKeptAliveConnectionCarriesSeveralCallsAndRefusals() throws {
        let gateway = try Fixture.gateway()
        let token = Self.backendToken(scope: "social:admin")
        let socket = try RawSocket(port: gateway.port)
        let body = #"{"reason":"again"}"#
        let requests = [
            "POST /api/v1/users/u1/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)",
            "GET /api/v1/nope HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n",
            "POST /api/v1/users/u2/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n",
        ]
        var statuses: [Int] = []
        for request in requests {
            try socket.send(request)
            let raw = socket.receive(until: { bytes in
                let text = String(decoding: bytes, as: UTF8.self)
                guard let end = text.range(of: "\r\n\r\n"),
                      let line = text[..<end.lowerBound].lowercased().split(separator: "\r\n")
                          .first(where: { $0.hasPrefix("content-length:") }),
                      let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
                else { return false }
                return text.utf8.count - text[..<end.upperBound].utf8.count >= length
            })
            statuses.append(try RawSocket.parse(raw).status)
        }
        #expect(statuses == [202, 404, 202])
    }

    @Test func aBodyThatStallsIsDroppedAfterTheHandshakeTimeout() throws {
        let gateway = try Fixture.gateway(["--handshake-timeout", "2"])
        let token = Self.backendToken(scope: "social:admin")
        let socket = try RawSocket(port: gateway.port, timeout: 30)
        try socket.send("POST /api/v1/users/x/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"rea")
        let started = Date()
        // The gateway hangs up (EOF) rather than waiting for the rest forever;
        // the 30 s socket timeout is the failure case.
        #expect(socket.receiveAll().isEmpty)
        #expect(Date().timeIntervalSince(started) < 25)
        #expect(try RawSocket.http(port: gateway.port, path: "/healthz").status == 200)
    }

    @Test func forceDisconnectClosesEveryOneOfTheUsersSessionsWith4003() throws {
        let gateway = try Fixture.gateway()
        let phone = try Fixture.client(gateway, "alice", device: "phone")
        let laptop = try Fixture.client(gateway, "alice", device: "laptop")
        let bob = try Fixture.client(gateway, "bob")
        let api = APIClient(port: gateway.port, token: Self.backendToken(scope: "social:admin"))

        let response = try api.call("POST", "/api/v1/users/alice/disconnect", json: ["reason": "account suspended"])
        #expect(response.status == 202, "\(response.body)")
        #expect(response.json?["user_id"] as? String == "alice")

        let closedPhone = phone.waitClosed()
        #expect(closedPhone?.code == 4003)
        #expect(closedPhone?.reason == "account suspended")
        #expect(laptop.waitClosed()?.code == 4003)
        #expect(bob.ok("ping") != nil, "other users stay connected")
        #expect(!bob.isClosed)
    }
}
