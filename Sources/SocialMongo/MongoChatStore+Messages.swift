import SocialCore
import SocialProtocol

/// The chat log: sends, edits, deletes and reactions each claim the chat's
/// next seq (see `ChatLog`), checked by `LogRules` against the chat's state at
/// that seq; read markers take none.
extension MongoChatStore {
    /// Checks and applies `change` in its chat's lane (see `ChatLanes`) on a
    /// worker; `completion` runs on that worker once the change is
    /// acknowledged, in the order this node submitted the chat's changes.
    public func submit(_ change: LogChange, completion: @escaping @Sendable (Result<LogEffect, any Error>) -> Void) {
        inLane(change.chat, { log in try Self.apply(change, log) }, completion: completion)
    }

    /// Runs the rules inside the plan of `ChatLog.commit`, so they are checked
    /// again on every attempt: a change planned before a kick loses its claim
    /// to the kick's seq and is checked on the state after it.
    /// Threads: a worker thread.
    private static func apply(_ change: LogChange, _ log: ChatLog) throws -> LogEffect {
        if case .read = change {
            return try LogRules.apply(change, in: MongoLogTransaction(log: log, chat: try log.load(change.chat)))
        }
        return try log.commit(change.chat) { chat, _ in
            let tx = MongoLogTransaction(log: log, chat: chat)
            let effect = try LogRules.apply(change, in: tx)
            guard tx.tookSeq else { return .unchanged(effect) }
            return .change(writes: tx.writes, chatFields: [:], result: effect)
        }
    }
}
