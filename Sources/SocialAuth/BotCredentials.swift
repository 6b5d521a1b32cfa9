import Crypto
import Foundation
import Synchronization

/// The bot accounts a node accepts at the WebSocket handshake, held in memory
/// so `Authorization: Bot <id>:<secret>` is checked on the lws thread without
/// I/O. The application replaces the whole set from the store every
/// `--bot-refresh-seconds` and after each change it makes through the API.
///
/// Threads: any thread may call every method (`entries` is behind a `Mutex`).
public final class BotCredentials: Sendable {
    /// What the handshake needs of one bot.
    public struct Entry: Sendable, Equatable {
        public var id: String
        /// Lowercase hex SHA-256 of the secret.
        public var secretHash: String
        public var scopes: [String]
        public var disabled: Bool

        public init(id: String, secretHash: String, scopes: [String], disabled: Bool) {
            self.id = id
            self.secretHash = secretHash
            self.scopes = scopes
            self.disabled = disabled
        }
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// Replaces every entry (a refresh from the store).
    public func replaceAll(_ entries: [Entry]) {
        let table = Dictionary(entries.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.entries.withLock { $0 = table }
    }

    /// Adds or replaces one entry (a change this node just made).
    public func update(_ entry: Entry) {
        entries.withLock { $0[entry.id] = entry }
    }

    public var count: Int { entries.withLock { $0.count } }

    /// Checks a bot credential, `<bot_id>:<secret>`.
    /// - Returns: the bot's identity (its id as user id, its scopes, no expiry), or why it was refused.
    public func verify(_ credential: String) -> Result<Identity, AuthFailure> {
        guard let colon = credential.firstIndex(of: ":") else {
            return .failure(.malformed("a bot credential is <bot_id>:<secret>"))
        }
        let id = String(credential[..<colon])
        let secret = String(credential[credential.index(after: colon)...])
        let entry = entries.withLock { $0[id] }
        // Hash even for an unknown id, so timing does not tell which ids exist.
        let hash = Self.hash(secret)
        guard let entry else { return .failure(.unknownBot) }
        guard Self.constantTimeEqual(hash, entry.secretHash) else { return .failure(.badBotSecret) }
        guard !entry.disabled else { return .failure(.botDisabled) }
        return .success(Identity(userId: entry.id, deviceId: "bot", scopes: entry.scopes, expiresAt: .infinity, isBot: true))
    }

    /// A new secret: 32 random bytes (from the system's CSPRNG), base64url, with a `bs_` prefix.
    public static func makeSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "bs_" + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Lowercase hex SHA-256 of `secret`, as stored.
    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
