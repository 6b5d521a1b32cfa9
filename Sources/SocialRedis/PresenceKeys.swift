import SocialCore

/// The names of the presence store's keys and of the expiry set's members.
///
/// - `<prefix>:ps:<user>`: hash, session id → the session's JSON.
/// - `<prefix>:pl:<user>`: string, the user's `lastSeen` (ms since 1970).
/// - `<prefix>:pe`: sorted set, one member per live session, scored by its
///   expiry (ms since 1970).
///
/// A member is `<user>|<session id>` with `\` and `|` in the user id escaped
/// by a `\`, so any user id (a token's `sub` may hold either) splits back at
/// the first unescaped `|`; the session id is the rest, unescaped.
///
/// Threads: a value; any thread.
struct PresenceKeys: Sendable {
    let prefix: String

    func sessions(_ user: UserID) -> String { "\(prefix):ps:\(user)" }
    func lastSeen(_ user: UserID) -> String { "\(prefix):pl:\(user)" }
    var expiries: String { "\(prefix):pe" }

    /// The start of every member of `user`'s sessions: the escaped user and `|`.
    static func memberPrefix(_ user: UserID) -> String {
        var escaped = ""
        escaped.unicodeScalars.reserveCapacity(user.unicodeScalars.count + 1)
        for scalar in user.unicodeScalars {
            if scalar == "\\" || scalar == "|" { escaped.unicodeScalars.append("\\") }
            escaped.unicodeScalars.append(scalar)
        }
        return escaped + "|"
    }

    static func member(_ user: UserID, _ sessionId: String) -> String { memberPrefix(user) + sessionId }

    /// The user and session id of a member; nil when it has no unescaped `|`
    /// (not written by this store).
    static func parseMember(_ member: [UInt8]) -> (user: UserID, sessionId: String)? {
        var user: [UInt8] = []
        var index = 0
        while index < member.count {
            let byte = member[index]
            if byte == UInt8(ascii: "\\"), index + 1 < member.count {
                user.append(member[index + 1])
                index += 2
            } else if byte == UInt8(ascii: "|") {
                return (String(decoding: user, as: UTF8.self),
                        String(decoding: member[(index + 1)...], as: UTF8.self))
            } else {
                user.append(byte)
                index += 1
            }
        }
        return nil
    }
}
