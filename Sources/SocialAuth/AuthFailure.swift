/// Why a token was refused. Every case becomes HTTP 401 at the handshake;
/// the description is the message in the 401 body.
public enum AuthFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case missingToken
    case malformed(String)
    case unsupportedAlgorithm(String)
    case unknownKey(String)
    case algorithmMismatch(token: String, key: String)
    case badSignature
    case expired
    case notYetValid
    case missingExpiry
    case wrongIssuer
    case wrongAudience
    case missingSubject
    case unknownBot
    case badBotSecret
    case botDisabled

    public var description: String {
        switch self {
        case .missingToken: return "no access token: send Authorization: Bearer <token> or ?access_token="
        case .malformed(let why): return "malformed token: \(why)"
        case .unsupportedAlgorithm(let alg): return "algorithm \"\(alg)\" is not accepted"
        case .unknownKey(let kid): return "unknown key id \"\(kid)\""
        case .algorithmMismatch(let token, let key): return "token algorithm \(token) does not match its key (\(key))"
        case .badSignature: return "signature does not verify"
        case .expired: return "token has expired"
        case .notYetValid: return "token is not valid yet"
        case .missingExpiry: return "token has no exp claim"
        case .wrongIssuer: return "token issuer is not accepted"
        case .wrongAudience: return "token audience is not accepted"
        case .missingSubject: return "token has no sub claim"
        case .unknownBot: return "unknown bot (or not yet known to this node)"
        case .badBotSecret: return "bot secret does not match"
        case .botDisabled: return "bot is disabled"
        }
    }
}

/// Who a verified token speaks for.
public struct Identity: Sendable, Equatable {
    /// The `sub` claim.
    public var userId: String
    /// The `did` claim, when the SSO binds tokens to devices.
    public var deviceId: String?
    /// The `scope` (space-separated) or `scp` (array) claim.
    public var scopes: [String]
    /// The `exp` claim, seconds since 1970.
    public var expiresAt: Double
    /// The token itself, which the REST proxy forwards upstream as the caller's identity.
    public var token: String
    /// A bot account's credential (`Authorization: Bot ...`), not a person's token.
    public var isBot: Bool

    public init(userId: String, deviceId: String?, scopes: [String], expiresAt: Double, token: String = "",
                isBot: Bool = false) {
        self.userId = userId
        self.deviceId = deviceId
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.token = token
        self.isBot = isBot
    }
}
