import Foundation
import Testing
import SocialTesting

/// Authentication and the other checks made before the upgrade, over real
/// sockets against a running gateway.
@Suite(.serialized) struct HandshakeAuthTests {
    let gateway: GatewayProcess

    init() async throws {
        try await Fixture.prepare()
        gateway = try Fixture.gateway(["--jwt-issuer", "https://sso.example.com", "--jwt-audience", "social-gateway",
                                       "--allowed-origins", "https://app.example.com"])
    }

    static let good: [String: Any] = ["iss": "https://sso.example.com", "aud": ["social-gateway", "other"]]

    func upgrade(_ headers: [String: String], path: String = "/ws") throws -> HTTPResponse {
        var all = ["Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                   "Sec-WebSocket-Version": "13"]
        for (k, v) in headers { all[k] = v }
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (k, v) in all where !v.isEmpty { request += "\(k): \(v)\r\n" }
        return try RawSocket.exchange(port: gateway.port, request: request + "\r\n")
    }

    func bearer(_ token: String) -> [String: String] { ["Authorization": "Bearer \(token)"] }

    func claims(_ extra: [String: Any] = [:], ttl: Double = 3600) -> [String: Any] {
        var c = TokenMinter.claims(user: "alice", ttl: ttl, extra: Self.good)
        for (k, v) in extra { c[k] = v }
        return c
    }

    @Test func validTokensOfEachAlgorithmUpgrade() throws {
        for alg in [TokenMinter.Algorithm.hs256, .rs256, .es256] {
            let token = Fixture.minter.sign(claims: claims(), algorithm: alg)
            #expect(try upgrade(bearer(token)).status == 101, "\(alg)")
        }
    }

    @Test func tokenInQueryParameterUpgrades() throws {
        let token = Fixture.minter.sign(claims: claims())
        #expect(try upgrade([:], path: "/ws?access_token=\(token)").status == 101)
    }

    @Test func refusedTokensGet401BeforeTheUpgrade() async throws {
        let minter = Fixture.minter
        let valid = minter.sign(claims: claims())
        var parts = valid.split(separator: ".").map(String.init)
        // Tampered: same signature, different payload.
        parts[1] = TokenMinter.encode(claims(["sub": "mallory"]))
        let tampered = parts.joined(separator: ".")
        // Key confusion: HS256 "signed" with the RSA public key's JWK text, under the RSA key's kid.
        let confused = try await TokenMinter.signHS256(claims: claims(), secret: Array(minter.jwks()!.utf8),
                                                       header: ["kid": TokenMinter.rsaKid])
        let cases: [(String, String)] = [
            ("alg none", TokenMinter.unsigned(claims: claims())),
            ("key confusion", confused),
            ("unknown kid", minter.sign(claims: claims(), algorithm: .rs256, header: ["kid": "nope"])),
            ("tampered", tampered),
            ("expired", minter.sign(claims: claims(ttl: -120))),
            ("not yet valid", minter.sign(claims: claims(["nbf": Int(Date().timeIntervalSince1970) + 600]))),
            ("wrong issuer", minter.sign(claims: claims(["iss": "https://evil.example.com"]))),
            ("wrong audience", minter.sign(claims: claims(["aud": "someone-else"]))),
            ("no exp", minter.sign(claims: { var c = claims(); c["exp"] = nil; return c }())),
            ("no sub", minter.sign(claims: { var c = claims(); c["sub"] = nil; return c }())),
            ("garbage", "not.a.token"),
            ("HS384", minter.sign(claims: claims(), header: ["alg": "HS384"])),
        ]
        for (name, token) in cases {
            let response = try upgrade(bearer(token))
            #expect(response.status == 401, "\(name): \(response.status) \(response.body)")
            #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer") == true, "\(name)")
            #expect(response.body.contains("\"unauthorized\""), "\(name): \(response.body)")
        }
        let missing = try upgrade([:])
        #expect(missing.status == 401)
        #expect(missing.body.contains("no access token"))
        let notBearer = try upgrade(["Authorization": "Basic YWxpY2U6c2VjcmV0"])
        #expect(notBearer.status == 401)
    }

    @Test func expiredWithinLeewayIsAccepted() throws {
        let token = Fixture.minter.sign(claims: claims(ttl: -30))
        #expect(try upgrade(bearer(token)).status == 101)
    }

    @Test func originOutsideTheAllowlistGets403() throws {
        let token = Fixture.minter.sign(claims: claims())
        let refused = try upgrade(bearer(token).merging(["Origin": "https://evil.example.com"]) { $1 })
        #expect(refused.status == 403)
        #expect(refused.body.contains("forbidden_origin"))
        #expect(try upgrade(bearer(token).merging(["Origin": "https://app.example.com"]) { $1 }).status == 101)
        // Native apps send no Origin.
        #expect(try upgrade(bearer(token)).status == 101)
    }

    @Test func wrongVersionPathOrSubprotocolIsRefused() throws {
        let token = Fixture.minter.sign(claims: claims())
        #expect(try upgrade(bearer(token).merging(["Sec-WebSocket-Version": "8"]) { $1 }).status == 400)
        #expect(try upgrade(bearer(token), path: "/other").status == 404)
        #expect(try upgrade(bearer(token).merging(["Sec-WebSocket-Protocol": "mqtt"]) { $1 }).status == 400)
        let both = try upgrade(bearer(token).merging(["Sec-WebSocket-Protocol": "mqtt, social.v1"]) { $1 })
        #expect(both.status == 101)
        #expect(both.headers["sec-websocket-protocol"] == "social.v1")
    }

    @Test func sessionKnowsUserAndDevice() throws {
        let token = Fixture.minter.sign(claims: claims())
        let viaQuery = try TestClient.connect(Fixture.loop, port: gateway.port, token: token, query: "?device_id=watch-7")
        let hello = try #require(viaQuery.event("hello"))
        #expect(hello["user_id"] as? String == "alice")
        #expect(hello["device_id"] as? String == "watch-7")
        // A `did` claim wins over the query parameter.
        let bound = Fixture.minter.sign(claims: claims(["did": "ios-42"]))
        let viaClaim = try TestClient.connect(Fixture.loop, port: gateway.port, token: bound, query: "?device_id=watch-7")
        #expect(viaClaim.event("hello")?["device_id"] as? String == "ios-42")
        // Neither: the server names the device.
        let anonymous = try TestClient.connect(Fixture.loop, port: gateway.port, token: token)
        #expect((anonymous.event("hello")?["device_id"] as? String)?.hasPrefix("anon-") == true)
        #expect(try upgrade(bearer(token), path: "/ws?device_id=bad%20id").status == 400)
    }

    @Test func theClientLibraryReportsTheRefusal() throws {
        do {
            _ = try TestClient.connect(Fixture.loop, port: gateway.port, token: "bad")
            Issue.record("connected with a bad token")
        } catch let error as TestClient.ConnectError {
            #expect(error.httpStatus == 401)
        }
    }
}

