import Foundation
import Testing
import SocialAuth
import SocialTesting

@Suite struct TokenVerifierTests {
    static let secret = "token-verifier-secret-0123456789abcdef"

    func setup(issuer: String? = nil, audience: String? = nil) async throws -> (TokenMinter, TokenVerifier) {
        let minter = try await TokenMinter.make(secret: Self.secret, withKeyPairs: true)
        let verifier = try await TokenVerifier.make(AuthSettings(hmacSecret: Self.secret, jwksJSON: minter.jwks(),
                                                                 issuer: issuer, audience: audience))
        return (minter, verifier)
    }

    @Test func acceptsEachAlgorithmWithItsKey() async throws {
        let (minter, verifier) = try await setup()
        for alg in [TokenMinter.Algorithm.hs256, .rs256, .es256] {
            let result = verifier.verify(minter.token(user: "alice", extra: ["did": "ios-1", "scope": "chat read"], algorithm: alg))
            let identity = try result.get()
            #expect(identity.userId == "alice")
            #expect(identity.deviceId == "ios-1")
            #expect(identity.scopes == ["chat", "read"])
        }
    }

    @Test func refusesForgedAndInvalidTokens() async throws {
        let (minter, verifier) = try await setup()
        let claims = TokenMinter.claims(user: "alice")
        func failure(_ token: String) -> AuthFailure? {
            if case .failure(let f) = verifier.verify(token) { return f }
            return nil
        }
        #expect(failure(TokenMinter.unsigned(claims: claims)) == .unsupportedAlgorithm("none"))
        #expect(failure(minter.sign(claims: claims, header: ["alg": "HS512"])) == .unsupportedAlgorithm("HS512"))
        // RS256 header, HS256 key: the algorithm must match the key chosen.
        #expect(failure(minter.sign(claims: claims, header: ["alg": "RS256"])) == .unknownKey("(none)"))
        let confused = try await TokenMinter.signHS256(claims: claims, secret: Array(minter.jwks()!.utf8),
                                                       header: ["kid": TokenMinter.rsaKid])
        #expect(failure(confused) == .algorithmMismatch(token: "HS256", key: "RS256"))
        #expect(failure(minter.sign(claims: claims, algorithm: .es256, header: ["kid": "rotated-away"])) == .unknownKey("rotated-away"))
        var parts = minter.token(user: "alice").split(separator: ".").map(String.init)
        parts[1] = TokenMinter.encode(TokenMinter.claims(user: "admin"))
        #expect(failure(parts.joined(separator: ".")) == .badSignature)
        let rsParts = minter.token(user: "alice", algorithm: .rs256).split(separator: ".")
        #expect(failure(rsParts[0] + "." + TokenMinter.encode(TokenMinter.claims(user: "admin")) + "." + rsParts[2]) == .badSignature)
        #expect(failure(minter.sign(claims: claims, header: ["crit": ["exp"]])) != nil)
        #expect(failure("a.b") == .malformed("expected three dot-separated parts"))
        #expect(failure(minter.token(user: "alice") + ".x") == .malformed("expected three dot-separated parts"))
        #expect(failure("..") != nil)
        #expect(failure("!!.!!.!!") != nil)
    }

    @Test func checksTimeClaimsWithLeeway() async throws {
        let (minter, verifier) = try await setup()
        let now = Date().timeIntervalSince1970
        #expect((try? verifier.verify(minter.token(user: "a", ttl: -30)).get()) != nil, "within 60 s leeway")
        #expect(throws: AuthFailure.expired) { try verifier.verify(minter.token(user: "a", ttl: -61)).get() }
        let early = minter.sign(claims: TokenMinter.claims(user: "a", extra: ["nbf": Int(now) + 120]))
        #expect(throws: AuthFailure.notYetValid) { try verifier.verify(early).get() }
        var noExp = TokenMinter.claims(user: "a")
        noExp["exp"] = nil
        #expect(throws: AuthFailure.missingExpiry) { try verifier.verify(minter.sign(claims: noExp)).get() }
        var noSub = TokenMinter.claims(user: "a")
        noSub["sub"] = nil
        #expect(throws: AuthFailure.missingSubject) { try verifier.verify(minter.sign(claims: noSub)).get() }
    }

    @Test func checksIssuerAndAudienceWhenConfigured() async throws {
        let (minter, verifier) = try await setup(issuer: "https://sso", audience: "gateway")
        let good = minter.sign(claims: TokenMinter.claims(user: "a", extra: ["iss": "https://sso", "aud": ["x", "gateway"]]))
        #expect((try? verifier.verify(good).get()) != nil)
        let badIss = minter.sign(claims: TokenMinter.claims(user: "a", extra: ["iss": "https://other", "aud": "gateway"]))
        #expect(throws: AuthFailure.wrongIssuer) { try verifier.verify(badIss).get() }
        let badAud = minter.sign(claims: TokenMinter.claims(user: "a", extra: ["iss": "https://sso", "aud": "other"]))
        #expect(throws: AuthFailure.wrongAudience) { try verifier.verify(badAud).get() }
    }

    @Test func refusesBadSettings() async throws {
        await #expect(throws: AuthSettingsError.self) { _ = try await TokenVerifier.make(AuthSettings(hmacSecret: "short")) }
        await #expect(throws: AuthSettingsError.self) { _ = try await TokenVerifier.make(AuthSettings()) }
        await #expect(throws: AuthSettingsError.self) { _ = try await TokenVerifier.make(AuthSettings(jwksJSON: "{nope")) }
        let odd = #"{"keys":[{"kty":"oct","kid":"sym","k":"c2VjcmV0"}]}"#
        await #expect(throws: AuthSettingsError.self) { _ = try await TokenVerifier.make(AuthSettings(jwksJSON: odd)) }
        let mixed = try await TokenVerifier.make(AuthSettings(hmacSecret: Self.secret, jwksJSON: odd))
        #expect(mixed.skippedKeys.count == 1)
    }
}
