import SocialCore

/// One command for the presence worker: a plain command, or a run of one of
/// the presence scripts (sent as `EVALSHA` with the hash the worker loaded,
/// or as `EVAL` with the source when Redis lost its script cache).
/// Threads: a value; any thread.
enum PresenceCall: Sendable {
    case command(RedisCommand)
    case script(PresenceScript, keys: [String], arguments: [String])

    /// The command to send: `EVALSHA <sha>` for a script, or `EVAL <source>`
    /// when `sha` is nil.
    func redisCommand(sha: String?) -> RedisCommand {
        switch self {
        case .command(let command):
            return command
        case .script(let script, let keys, let arguments):
            var command = RedisCommand(sha == nil ? "EVAL" : "EVALSHA")
            command.argument((sha ?? script.source).utf8)
            command.argument(String(keys.count).utf8)
            for key in keys { command.argument(key.utf8) }
            for argument in arguments { command.argument(argument.utf8) }
            return command
        }
    }

    var script: PresenceScript? {
        if case .script(let script, _, _) = self { return script }
        return nil
    }
}

/// Calls sent together, and what to do with their replies (one per call, in
/// order) or with the failure. `complete` runs on the worker thread (or the
/// submitting thread when the call is refused at once): it must not block.
struct PresenceJob: Sendable {
    let calls: [PresenceCall]
    let complete: @Sendable (Result<[RedisReply], StoreError>) -> Void
}

extension RedisCommand {
    /// A command from text arguments.
    init(_ name: String, _ arguments: String...) {
        self.init(name)
        for argument in arguments { self.argument(argument.utf8) }
    }
}
