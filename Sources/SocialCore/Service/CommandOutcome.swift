import SocialProtocol

/// What running one command produced: the reply frame, and the topics the
/// calling session starts or stops receiving (presence watches are per session).
public struct CommandOutcome: Sendable, Equatable {
    public var reply: [UInt8]
    public var subscribe: [Topic]
    public var unsubscribe: [Topic]

    public init(reply: [UInt8], subscribe: [Topic] = [], unsubscribe: [Topic] = []) {
        self.reply = reply
        self.subscribe = subscribe
        self.unsubscribe = unsubscribe
    }
}

/// The session-level effects an op collects while it runs.
struct SessionEffects {
    var subscribe: [Topic] = []
    var unsubscribe: [Topic] = []
}
