import Foundation
import SocialCore

/// How sessions are stored (JSON in the user's hash) and how the scripts'
/// replies become presence. Threads: stateless; any thread.
enum PresenceCodec {
    /// A session as stored: `{"sessionId","deviceId","state","activity"?,"since"}`.
    /// Fields may be added later; unknown ones are ignored when read.
    private struct Stored: Codable {
        var sessionId: String
        var deviceId: String
        var state: String
        var activity: String?
        var since: Int64
    }

    static func encode(_ session: SessionPresence) -> String {
        let stored = Stored(sessionId: session.sessionId, deviceId: session.deviceId, state: session.state.rawValue,
                            activity: session.activity, since: session.since)
        // Encoding strings and integers cannot fail.
        let data = (try? JSONEncoder().encode(stored)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The session in `json`; nil when it is not a live session this version
    /// understands (malformed, or a state that is not online/away/training).
    static func decode(_ json: [UInt8]) -> SessionPresence? {
        guard let stored = try? JSONDecoder().decode(Stored.self, from: Data(json)),
              let state = PresenceState(rawValue: stored.state), state != .offline else { return nil }
        return SessionPresence(sessionId: stored.sessionId, deviceId: stored.deviceId, state: state,
                               activity: stored.activity, since: stored.since)
    }

    /// The user's presence from a `lastSeen` reply and a list of session JSONs.
    /// Sessions are ordered by id first, so that ties (two devices training
    /// since the same millisecond) resolve the same way on every call.
    /// - Parameter skipped: told about each session that cannot be decoded.
    static func presence(_ user: UserID, lastSeen: RedisReply, sessions: RedisReply,
                         skipped: (String) -> Void) throws -> Presence {
        guard case .array(let items) = sessions else { throw unexpected("a list of sessions", sessions) }
        var decoded: [SessionPresence] = []
        for item in items {
            guard case .bulk(let json) = item, let session = decode(json) else {
                skipped("\(item)")
                continue
            }
            decoded.append(session)
        }
        decoded.sort { $0.sessionId < $1.sessionId }
        return Presence.aggregate(user, decoded, lastSeen: try milliseconds(lastSeen))
    }

    /// A change from the per-user scripts' `{lastSeen before, lastSeen after,
    /// sessions before, sessions after}`.
    static func change(_ user: UserID, _ reply: ArraySlice<RedisReply>, skipped: (String) -> Void) throws -> PresenceChange {
        guard reply.count == 4 else { throw unexpected("{seen, seen, before, after}", .array(Array(reply))) }
        let r = Array(reply)
        return PresenceChange(before: try presence(user, lastSeen: r[0], sessions: r[2], skipped: skipped),
                              after: try presence(user, lastSeen: r[1], sessions: r[3], skipped: skipped))
    }

    /// A timestamp stored as decimal text; nil for a null reply.
    static func milliseconds(_ reply: RedisReply) throws -> Int64? {
        switch reply {
        case .null: return nil
        case .bulk:
            guard let text = reply.text, let value = Int64(text) else { throw unexpected("milliseconds", reply) }
            return value
        case .integer(let value): return Int64(value)
        default: throw unexpected("milliseconds", reply)
        }
    }

    /// The elements of an array reply; a Redis error becomes `unavailable`.
    static func elements(_ reply: RedisReply, _ what: String) throws -> [RedisReply] {
        if case .error(let message) = reply { throw StoreError.unavailable("redis refused \(what): \(message)") }
        guard case .array(let items) = reply else { throw unexpected(what, reply) }
        return items
    }

    static func unexpected(_ expected: String, _ reply: RedisReply) -> StoreError {
        if case .error(let message) = reply { return .unavailable("redis refused a presence call: \(message)") }
        return .unavailable("redis answered \(reply) where \(expected) was expected")
    }
}
