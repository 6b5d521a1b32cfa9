import Foundation
import JWTKit
import SocialProtocol

/// Verifies access tokens synchronously, so the handshake can refuse a bad one
/// with HTTP 401 before the upgrade. Signatures are checked by jwt-kit's
/// algorithms; this type picks the key (by `kid` and `alg`, refusing any
/// mismatch) and checks the claims.
///
/// Immutable after `make`, so any thread may call `verify`.
public final class TokenVerifier: Sendable {
    private struct Key: Sendable {
        let alg: String
        let algorithm: any JWTAlgorithm
    }

    /// Algorithms the gateway accepts; anything else (`none` included) is refused.
    public static let acceptedAlgorithms: Set<String> = ["HS256", "RS256", "ES256"]

    private let hmacKey: Key?
    private let keysById: [String: Key]
    private let settings: AuthSettings
    /// Keys skipped from the JWKS (unsupported algorithm or key type), for the start-up log.
    public let skippedKeys: [String]

    private init(hmacKey: Key?, keysById: [String: Key], settings: AuthSettings, skippedKeys: [String]) {
        self.hmacKey = hmacKey
        self.keysById = keysById
        self.settings = settings
        self.skippedKeys = skippedKeys
    }

    /// Builds the verifier's keys. Throws when no key is configured, the
    /// secret is too short, or the JWKS does not parse.
    public static func make(_ settings: AuthSettings) async throws -> TokenVerifier {
        let collection = JWTKeyCollection()
        var hmacKey: Key?
        if let secret = settings.hmacSecret {
            guard secret.utf8.count >= AuthSettings.minimumSecretBytes else {
                throw AuthSettingsError("--jwt-secret must be at least \(AuthSettings.minimumSecretBytes) bytes (it has \(secret.utf8.count))")
            }
            await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: "__hs256__")
            hmacKey = Key(alg: "HS256", algorithm: try await collection.getKey(for: "__hs256__", alg: "HS256"))
        }
        var keys: [String: Key] = [:]
        var skipped: [String] = []
        if let json = settings.jwksJSON {
            // Each key is read on its own, so one key of a type jwt-kit does not
            // know (a symmetric "oct" key, say) does not sink the whole set.
            guard let document = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                  let entries = document["keys"] as? [Any] else {
                throw AuthSettingsError("the JWKS file does not parse: expected {\"keys\": [...]}")
            }
            for entry in entries {
                guard let data = try? JSONSerialization.data(withJSONObject: entry),
                      let jwk = try? JSONDecoder().decode(JWK.self, from: data) else {
                    skipped.append("a key that does not parse as a JWK")
                    continue
                }
                guard let kid = jwk.keyIdentifier?.string else {
                    skipped.append("a key without kid")
                    continue
                }
                guard let alg = algorithm(of: jwk) else {
                    skipped.append("\(kid): only RS256 (RSA) and ES256 (EC P-256) keys are accepted")
                    continue
                }
                do {
                    try await collection.add(jwk: jwk)
                    keys[kid] = Key(alg: alg, algorithm: try await collection.getKey(for: JWKIdentifier(string: kid), alg: alg))
                } catch {
                    skipped.append("\(kid): \(error)")
                }
            }
        }
        guard hmacKey != nil || !keys.isEmpty else {
            throw AuthSettingsError("no token key configured: set --jwt-secret or --jwt-public-keys")
        }
        return TokenVerifier(hmacKey: hmacKey, keysById: keys, settings: settings, skippedKeys: skipped)
    }

    /// The JWS algorithm a JWK is used with: its `alg`, or the one its key type implies.
    private static func algorithm(of jwk: JWK) -> String? {
        if let alg = jwk.algorithm?.rawValue {
            return ["RS256", "ES256"].contains(alg) ? alg : nil
        }
        switch jwk.keyType {
        case .rsa: return "RS256"
        case .ecdsa: return jwk.curve?.rawValue == "P-256" ? "ES256" : nil
        default: return nil
        }
    }

    /// Verifies `token` at time `now` (seconds since 1970).
    public func verify(_ token: String, now: Double = Date().timeIntervalSince1970) -> Result<Identity, AuthFailure> {
        // The token's bytes, not its Characters: splitting a String breaks it
        // into grapheme clusters, which cost more than the rest of the parsing.
        let bytes = Array(token.utf8)
        let dot = UInt8(ascii: ".")
        guard let firstDot = bytes.firstIndex(of: dot),
              let secondDot = bytes[(firstDot + 1)...].firstIndex(of: dot),
              !bytes[(secondDot + 1)...].contains(dot) else {
            return .failure(.malformed("expected three dot-separated parts"))
        }
        let parts = [bytes[..<firstDot], bytes[(firstDot + 1)..<secondDot], bytes[(secondDot + 1)...]]
        guard let headerBytes = Base64URL.decode(parts[0]), let header = Self.object(headerBytes) else {
            return .failure(.malformed("header is not base64url JSON"))
        }
        guard case .string(let alg)? = header["alg"] else { return .failure(.malformed("header has no alg")) }
        guard Self.acceptedAlgorithms.contains(alg) else { return .failure(.unsupportedAlgorithm(alg)) }
        if header["crit"] != nil { return .failure(.malformed("critical header extensions are not supported")) }

        let key: Key
        if case .string(let kid)? = header["kid"] {
            guard let found = keysById[kid] else { return .failure(.unknownKey(kid)) }
            key = found
        } else if alg == "HS256", let hmac = hmacKey {
            key = hmac
        } else {
            return .failure(.unknownKey("(none)"))
        }
        guard key.alg == alg else { return .failure(.algorithmMismatch(token: alg, key: key.alg)) }

        guard let signature = Base64URL.decode(parts[2]) else { return .failure(.malformed("signature is not base64url")) }
        let signingInput = Array(bytes[..<secondDot])
        let verified = (try? key.algorithm.verify(signature, signs: signingInput)) ?? false
        guard verified else { return .failure(.badSignature) }

        guard let payloadBytes = Base64URL.decode(parts[1]), let claims = Self.object(payloadBytes) else {
            return .failure(.malformed("payload is not base64url JSON"))
        }
        return check(claims, now: now).map { identity in
            var identity = identity
            identity.token = token
            return identity
        }
    }

    /// A JSON object: read by the strict hot-path reader, or (for what it
    /// declines, such as a repeated key or a huge number) by `JSONDecoder`.
    private static func object(_ bytes: [UInt8]) -> [String: JSONValue]? {
        let value = JSONReader.read(bytes) ?? (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)))
        guard case .object(let object)? = value else { return nil }
        return object
    }

    private func check(_ claims: [String: JSONValue], now: Double) -> Result<Identity, AuthFailure> {
        guard case .number(let exp)? = claims["exp"] else { return .failure(.missingExpiry) }
        guard now <= exp + settings.leewaySeconds else { return .failure(.expired) }
        if case .number(let nbf)? = claims["nbf"], now + settings.leewaySeconds < nbf {
            return .failure(.notYetValid)
        }
        if let issuer = settings.issuer, claims["iss"] != .string(issuer) { return .failure(.wrongIssuer) }
        if let audience = settings.audience {
            let audiences: [JSONValue]
            switch claims["aud"] {
            case .string(let one)?: audiences = [.string(one)]
            case .array(let many)?: audiences = many
            default: audiences = []
            }
            guard audiences.contains(.string(audience)) else { return .failure(.wrongAudience) }
        }
        guard case .string(let sub)? = claims["sub"], !sub.isEmpty, sub.utf8.count <= 128 else {
            return .failure(.missingSubject)
        }
        var scopes: [String] = []
        switch claims["scope"] {
        case .string(let scope)?:
            scopes = scope.split(separator: " ").map(String.init)
        default:
            if case .array(let scp)? = claims["scp"] {
                scopes = scp.compactMap { if case .string(let s) = $0 { s } else { nil } }
            }
        }
        var did: String?
        if case .string(let device)? = claims["did"], !device.isEmpty { did = device }
        return .success(Identity(userId: sub, deviceId: did, scopes: scopes, expiresAt: exp))
    }
}
