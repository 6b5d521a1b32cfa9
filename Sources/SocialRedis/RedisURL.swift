/// Where Redis is: `redis://host[:port][/db]`, parsed strictly.
///
/// Accepted: a host name, an IPv4 address or a bracketed IPv6 address; a port
/// 1–65535 (default 6379); an optional database number 0–15 (default 0; a
/// trailing `/` alone also means 0).
/// Refused with `RedisBusError.invalidURL`: other schemes, credentials (AUTH
/// is not supported), query strings, fragments, anything after the database.
///
/// Pub/sub channels are server-wide: the database does not scope them (use
/// `RedisBus.Settings.channelPrefix` to share a Redis between deployments). It
/// is parsed so one URL can serve the bus and database-scoped users of the
/// same Redis.
public struct RedisURL: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var database: Int

    public init(host: String, port: Int = 6379, database: Int = 0) {
        self.host = host
        self.port = port
        self.database = database
    }

    /// Parses `text`; throws `RedisBusError.invalidURL` saying what is wrong.
    public init(parsing text: String) throws {
        let scheme = "redis://"
        guard text.hasPrefix(scheme) else { throw Self.invalid(text, "the scheme must be redis://") }
        var rest = Substring(text.dropFirst(scheme.count))
        if let bad = rest.first(where: { "@?#".contains($0) }) {
            throw Self.invalid(text, bad == "@" ? "credentials are not supported" : "unexpected '\(bad)'")
        }
        var databaseText: Substring?
        if let slash = rest.firstIndex(of: "/") {
            databaseText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }

        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw Self.invalid(text, "unclosed '[' in the host") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            guard host.contains(":") else { throw Self.invalid(text, "only an IPv6 address goes in brackets") }
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Self.invalid(text, "unexpected text after the host") }
                portText = after.dropFirst()
            }
        } else {
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw Self.invalid(text, "an IPv6 host must be in brackets") }
            host = String(parts[0])
            portText = parts.count == 2 ? parts[1] : nil
        }
        guard !host.isEmpty, host.unicodeScalars.allSatisfy({ $0.isASCII && Self.hostCharacters.contains($0) }) else {
            throw Self.invalid(text, "missing or invalid host")
        }

        port = 6379
        if let portText {
            guard let value = Self.number(portText), (1...65535).contains(value) else {
                throw Self.invalid(text, "the port must be 1-65535")
            }
            port = value
        }
        database = 0
        if let databaseText, !databaseText.isEmpty {
            guard let value = Self.number(databaseText), (0...15).contains(value) else {
                throw Self.invalid(text, "the database must be a number 0-15")
            }
            database = value
        }
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "redis://\(shownHost):\(port)/\(database)"
    }

    private static let hostCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:".unicodeScalars)

    /// ASCII digits only (no sign, no spaces), at most 5 of them.
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) else {
            return nil
        }
        return Int(text)
    }

    private static func invalid(_ text: String, _ why: String) -> RedisBusError {
        .invalidURL("invalid Redis URL \"\(text)\": \(why)")
    }
}
