/// One connection of the presence worker, with the presence scripts loaded.
///
/// Threads: created by and confined to the presence worker's thread, like the
/// `RedisConnection` it owns; every method runs on that thread only.
final class PresenceSession {
    private let connection: RedisConnection
    /// The `SCRIPT LOAD` hash of each script, by `PresenceScript.rawValue`.
    private let hashes: [String]

    private init(connection: RedisConnection, hashes: [String]) {
        self.connection = connection
        self.hashes = hashes
    }

    /// Connects, selects the URL's database and loads every script (one
    /// pipelined round trip). Worker thread.
    static func open(_ url: RedisURL, _ settings: RedisPresenceSettings) throws -> PresenceSession {
        let connection = try RedisConnection.connect(
            to: url, connectTimeout: settings.connectTimeoutSeconds, ioTimeout: settings.commandTimeoutSeconds)
        if url.database != 0 {
            try connection.append(RedisCommand("SELECT", String(url.database)))
        }
        for script in PresenceScript.allCases {
            try connection.append(RedisCommand("SCRIPT", "LOAD", script.source))
        }
        if url.database != 0 {
            let reply = try connection.reply()
            guard reply == .status("OK") else { throw RedisBusError.unexpectedReply("SELECT answered \(reply)") }
        }
        var hashes: [String] = []
        for script in PresenceScript.allCases {
            let reply = try connection.reply()
            guard case .bulk = reply, let hash = reply.text else {
                throw RedisBusError.unexpectedReply("SCRIPT LOAD of the \(script) script answered \(reply)")
            }
            hashes.append(hash)
        }
        return PresenceSession(connection: connection, hashes: hashes)
    }

    /// Sends every call of every job in one pipeline and returns each job's
    /// replies. A script Redis no longer knows (`NOSCRIPT`: its cache was
    /// flushed) did not run; it is sent again with its source, which also
    /// caches it again. Throws when the connection breaks. Worker thread.
    func execute(_ jobs: [[PresenceCall]]) throws -> [[RedisReply]] {
        for calls in jobs {
            for call in calls { try connection.append(call.redisCommand(sha: call.script.map { hashes[$0.rawValue] })) }
        }
        var replies: [[RedisReply]] = []
        var unknown: [(job: Int, call: Int)] = []
        for (j, calls) in jobs.enumerated() {
            var answers: [RedisReply] = []
            answers.reserveCapacity(calls.count)
            for c in calls.indices {
                let reply = try connection.reply()
                if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") { unknown.append((j, c)) }
                answers.append(reply)
            }
            replies.append(answers)
        }
        for (j, c) in unknown { try connection.append(jobs[j][c].redisCommand(sha: nil)) }
        for (j, c) in unknown { replies[j][c] = try connection.reply() }
        return replies
    }

    /// Checks that the connection still answers. Worker thread.
    func ping() throws {
        try connection.append(RedisCommand("PING"))
        let reply = try connection.reply()
        guard reply.isPong else { throw RedisBusError.unexpectedReply("PING answered \(reply)") }
    }
}
