/// What the gateway trusts: an HS256 secret and/or a JWKS of RS256/ES256
/// public keys, plus the claims it requires.
public struct AuthSettings: Sendable {
    /// HS256 shared secret; at least 32 bytes.
    public var hmacSecret: String?
    /// A JWKS document (JSON text) with RS256 and/or ES256 keys, each with a `kid`.
    public var jwksJSON: String?
    /// Required `iss`, when set.
    public var issuer: String?
    /// Required `aud` (one of the token's audiences), when set.
    public var audience: String?
    /// Clock skew allowed on `exp` and `nbf`, in seconds (at most 60).
    public var leewaySeconds: Double

    public init(hmacSecret: String? = nil, jwksJSON: String? = nil, issuer: String? = nil,
                audience: String? = nil, leewaySeconds: Double = 60) {
        self.hmacSecret = hmacSecret
        self.jwksJSON = jwksJSON
        self.issuer = issuer
        self.audience = audience
        self.leewaySeconds = min(max(leewaySeconds, 0), 60)
    }

    /// The shortest HS256 secret accepted (RFC 7518 §3.2: key size ≥ hash size).
    public static let minimumSecretBytes = 32
}

/// A setting that keeps the verifier from starting.
public struct AuthSettingsError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
