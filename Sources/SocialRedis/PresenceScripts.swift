/// The presence store's Lua scripts: each runs one operation's
/// read-modify-write atomically in Redis (no other command runs meanwhile),
/// which is what makes the before/after of every change exact and lets many
/// nodes sweep at once. The scripts only move JSON strings around; Swift
/// decodes them and computes presence with `Presence.aggregate`.
///
/// Per-user scripts take `KEYS = [sessions hash, lastSeen, expiry set]` and
/// `ARGV[1]` = the user's member prefix (`PresenceKeys.memberPrefix`), and
/// return `{lastSeen before, lastSeen after, live JSONs before, live JSONs
/// after}` (a nil lastSeen is a null). "Live" means expiring after `now`.
///
/// Keys are all declared in `KEYS`, but one call touches a user's keys and the
/// global expiry set: on Redis Cluster they would sit in different slots, so
/// the store needs a single Redis (or a primary with replicas).
///
/// Threads: constants; any thread.
enum PresenceScript: Int, CaseIterable, Sendable {
    case set, remove, refresh, sweepUser, get

    var source: String {
        switch self {
        case .set: return Self.prelude + Self.setBody
        case .remove: return Self.prelude + Self.removeBody
        case .refresh: return Self.prelude + Self.refreshBody
        case .sweepUser: return Self.prelude + Self.sweepUserBody
        case .get: return Self.prelude + Self.getBody
        }
    }

    /// `sessions` lists a user's sessions as `{id, json, expiry, expiry as
    /// text}` (both expiries nil when the session has no member in the set);
    /// `live` keeps the JSON of those expiring after `now`; `keep` makes a
    /// key live at least `ms` more milliseconds.
    private static let prelude = """
        local function sessions(hash, zset, prefix)
          local flat = redis.call('HGETALL', hash)
          local out = {}
          for i = 1, #flat, 2 do
            local score = redis.call('ZSCORE', zset, prefix .. flat[i])
            out[#out + 1] = {flat[i], flat[i + 1], score and tonumber(score) or nil, score}
          end
          return out
        end
        local function live(list, now)
          local out = {}
          for _, s in ipairs(list) do
            if s[3] and s[3] > now then out[#out + 1] = s[2] end
          end
          return out
        end
        local function keep(key, ms)
          if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
        end

        """

    /// ARGV: prefix, session id, JSON, now, expiry, hash TTL (ms).
    private static let setBody = """
        local now = tonumber(ARGV[4])
        local before = live(sessions(KEYS[1], KEYS[3], ARGV[1]), now)
        redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
        redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1] .. ARGV[2])
        keep(KEYS[1], tonumber(ARGV[6]))
        local seen = redis.call('GET', KEYS[2])
        return {seen, seen, before, live(sessions(KEYS[1], KEYS[3], ARGV[1]), now)}
        """

    /// ARGV: prefix, session id, now, lastSeen retention (ms). When no live
    /// session is left, lastSeen becomes `now`.
    private static let removeBody = """
        local now = tonumber(ARGV[3])
        local before = live(sessions(KEYS[1], KEYS[3], ARGV[1]), now)
        local seen = redis.call('GET', KEYS[2])
        local removed = redis.call('HDEL', KEYS[1], ARGV[2])
        redis.call('ZREM', KEYS[3], ARGV[1] .. ARGV[2])
        if removed == 0 then return {seen, seen, before, before} end
        local after = live(sessions(KEYS[1], KEYS[3], ARGV[1]), now)
        local seenAfter = seen
        if #after == 0 then
          redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
          seenAfter = ARGV[3]
        end
        return {seen, seenAfter, before, after}
        """

    /// KEYS: expiry set, then one sessions hash per session. ARGV: expiry,
    /// hash TTL (ms), then member and session id per session. Extends only
    /// sessions still in their hash (a removed or swept one stays gone).
    /// Returns how many were extended.
    private static let refreshBody = """
        local ttl = tonumber(ARGV[2])
        local refreshed = 0
        for i = 2, #KEYS do
          local member, id = ARGV[2 * i - 1], ARGV[2 * i]
          if redis.call('HEXISTS', KEYS[i], id) == 1 then
            redis.call('ZADD', KEYS[1], ARGV[1], member)
            keep(KEYS[i], ttl)
            refreshed = refreshed + 1
          end
        end
        return refreshed
        """

    /// ARGV: prefix, now, lastSeen retention (ms), then the session ids the
    /// caller found expired in the expiry set. Removes every expired session
    /// of the user (listed or found in the hash). A session counts as removed
    /// by this call only if this call deleted it (`ZREM`/`HDEL` answered 1):
    /// when several nodes sweep the same user, the first removes and reports,
    /// the others find nothing and return `{0}`. Otherwise returns
    /// `{removed, lastSeen before, lastSeen after, JSONs before, live JSONs
    /// after}`, where "before" lists every session, the expired included (as
    /// the user last looked), and lastSeen becomes the latest removed expiry
    /// when no live session is left.
    private static let sweepUserBody = """
        local prefix, now = ARGV[1], tonumber(ARGV[2])
        local removed, latest, latestText = 0, nil, nil
        local function drop(id, expiry, expiryText)
          local deleted = redis.call('ZREM', KEYS[3], prefix .. id) + redis.call('HDEL', KEYS[1], id)
          if deleted > 0 then
            removed = removed + 1
            if not latest or expiry > latest then latest, latestText = expiry, expiryText end
          end
        end
        local before = {}
        for _, s in ipairs(sessions(KEYS[1], KEYS[3], prefix)) do
          before[#before + 1] = s[2]
          if not s[3] then
            drop(s[1], now, ARGV[2])
          elseif s[3] <= now then
            drop(s[1], s[3], s[4])
          end
        end
        for i = 4, #ARGV do
          local score = redis.call('ZSCORE', KEYS[3], prefix .. ARGV[i])
          if score and tonumber(score) <= now then drop(ARGV[i], tonumber(score), score) end
        end
        if removed == 0 then return {0} end
        local seen = redis.call('GET', KEYS[2])
        local after = live(sessions(KEYS[1], KEYS[3], prefix), now)
        local seenAfter = seen
        if #after == 0 and (not seen or tonumber(seen) < latest) then
          redis.call('SET', KEYS[2], latestText, 'PX', ARGV[3])
          seenAfter = latestText
        end
        return {removed, seen, seenAfter, before, after}
        """

    /// KEYS: expiry set, then the sessions hash and lastSeen key of each user.
    /// ARGV: now, then each user's member prefix. Returns per user
    /// `{lastSeen, live JSONs}`.
    private static let getBody = """
        local now = tonumber(ARGV[1])
        local out = {}
        for i = 2, #ARGV do
          local hash, seen = KEYS[2 * i - 2], KEYS[2 * i - 1]
          out[#out + 1] = {redis.call('GET', seen), live(sessions(hash, KEYS[1], ARGV[i]), now)}
        end
        return out
        """
}
