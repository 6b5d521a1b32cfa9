import Foundation
import JWTKit

/// Mints access tokens the way the company SSO does (and the malformed ones
/// it never would), for tests and the load-test driver. Holds an HS256
/// secret and, optionally, an RS256 and an ES256 key pair whose public halves
/// `jwks()` exports for `--jwt-public-keys`.
public final class TokenMinter: Sendable {
    public static let rsaKid = "sso-rsa-1"
    public static let ecKid = "sso-ec-1"

    public let secret: String
    private let hmac: any JWTAlgorithm
    private let rsa: (any JWTAlgorithm)?
    private let ec: (any JWTAlgorithm)?
    private let jwksJSON: String?

    private init(secret: String, hmac: any JWTAlgorithm, rsa: (any JWTAlgorithm)?, ec: (any JWTAlgorithm)?, jwks: String?) {
        self.secret = secret
        self.hmac = hmac
        self.rsa = rsa
        self.ec = ec
        self.jwksJSON = jwks
    }

    /// - Parameters:
    ///   - secret: the HS256 secret the gateway trusts (≥ 32 bytes).
    ///   - withKeyPairs: also make RS256 and ES256 key pairs (RSA via `openssl genrsa`).
    public static func make(secret: String, withKeyPairs: Bool = false) async throws -> TokenMinter {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: "hs")
        let hmac = try await keys.getKey(for: "hs", alg: "HS256")
        guard withKeyPairs else { return TokenMinter(secret: secret, hmac: hmac, rsa: nil, ec: nil, jwks: nil) }

        let rsaPrivate = try Insecure.RSA.PrivateKey(pem: try generateRSAPEM())
        await keys.add(rsa: rsaPrivate, digestAlgorithm: .sha256, kid: JWKIdentifier(string: rsaKid))
        let rsa = try await keys.getKey(for: JWKIdentifier(string: rsaKid), alg: "RS256")
        let ecPrivate = ES256PrivateKey()
        await keys.add(ecdsa: ecPrivate, kid: JWKIdentifier(string: ecKid))
        let ec = try await keys.getKey(for: JWKIdentifier(string: ecKid), alg: "ES256")

        let (n, e) = try rsaPrivate.publicKey.getKeyPrimitives()
        guard let xy = ecPrivate.parameters else { throw MinterError("EC key has no parameters") }
        let jwks: [String: Any] = ["keys": [
            ["kty": "RSA", "kid": rsaKid, "alg": "RS256", "use": "sig", "n": base64URL(n), "e": base64URL(e)],
            ["kty": "EC", "kid": ecKid, "alg": "ES256", "use": "sig", "crv": "P-256", "x": xy.x, "y": xy.y],
        ]]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: jwks), as: UTF8.self)
        return TokenMinter(secret: secret, hmac: hmac, rsa: rsa, ec: ec, jwks: json)
    }

    /// The public keys as a JWKS document.
    public func jwks() -> String? { jwksJSON }

    public enum Algorithm: Sendable {
        case hs256
        case rs256
        case es256
    }

    /// Standard claims for `user`, valid for `ttl` seconds.
    public static func claims(user: String, ttl: Double = 3600, extra: [String: Any] = [:]) -> [String: Any] {
        let now = Date().timeIntervalSince1970
        var claims: [String: Any] = ["sub": user, "iat": Int(now), "exp": Int(now + ttl)]
        for (k, v) in extra { claims[k] = v }
        return claims
    }

    /// A signed token for `user` (HS256 unless asked otherwise).
    public func token(user: String, ttl: Double = 3600, extra: [String: Any] = [:], algorithm: Algorithm = .hs256) -> String {
        sign(claims: Self.claims(user: user, ttl: ttl, extra: extra), algorithm: algorithm)
    }

    /// Signs arbitrary claims with the chosen key; `header` overrides header fields.
    public func sign(claims: [String: Any], algorithm: Algorithm = .hs256, header: [String: Any] = [:]) -> String {
        let (alg, kid, key): (String, String?, (any JWTAlgorithm)?) = switch algorithm {
        case .hs256: ("HS256", nil, hmac)
        case .rs256: ("RS256", Self.rsaKid, rsa)
        case .es256: ("ES256", Self.ecKid, ec)
        }
        var head: [String: Any] = ["alg": alg, "typ": "JWT"]
        if let kid { head["kid"] = kid }
        for (k, v) in header { head[k] = v }
        let input = Self.encode(head) + "." + Self.encode(claims)
        let signature = (try? key?.sign(Array(input.utf8))) ?? []
        return input + "." + Self.base64URL(Data(signature))
    }

    /// An HS256-shaped token signed with an arbitrary secret (for key-confusion tests).
    public static func signHS256(claims: [String: Any], secret: [UInt8], header: [String: Any]) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(key: .init(data: secret)), digestAlgorithm: .sha256, kid: "x")
        let key = try await keys.getKey(for: "x", alg: "HS256")
        var head: [String: Any] = ["alg": "HS256", "typ": "JWT"]
        for (k, v) in header { head[k] = v }
        let input = encode(head) + "." + encode(claims)
        return input + "." + base64URL(Data(try key.sign(Array(input.utf8))))
    }

    /// An unsigned `alg: none` token.
    public static func unsigned(claims: [String: Any]) -> String {
        encode(["alg": "none", "typ": "JWT"]) + "." + encode(claims) + "."
    }

    public static func encode(_ object: [String: Any]) -> String {
        base64URL((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func generateRSAPEM() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["genrsa", "2048"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw MinterError("openssl genrsa failed") }
        return String(decoding: data, as: UTF8.self)
    }
}

public struct MinterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
