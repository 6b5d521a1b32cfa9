import SocialProtocol

/// What running one command produced: the reply frame, and the topics the
/// calling session starts or stops receiving (presence watches are per session).
public struct CommandOutcome: Sendable, Equatable {
    public var reply: [UInt8]
    public var subscribe: [Topic]
    public var unsubscribe: [Topic]
    /// When set, the transport sends the reply, then closes the session with
    /// this code (a client that keeps flooding past its rate limits, say).
    public var close: CloseCode?

    public init(reply: [UInt8], subscribe: [Topic] = [], unsubscribe: [Topic] = [], close: CloseCode? = nil) {
        self.reply = reply
        self.subscribe = subscribe
        self.unsubscribe = unsubscribe
        self.close = close
    }
}

/// The session-level effects an op collects while it runs.
struct SessionEffects {
    var subscribe: [Topic] = []
    var unsubscribe: [Topic] = []
}
