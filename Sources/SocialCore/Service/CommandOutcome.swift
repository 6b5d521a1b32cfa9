import SocialProtocol

/// What running one command produced: the reply frame, how it went (for
/// metrics), and the topics the calling session starts or stops receiving
/// (presence watches are per session).
public struct CommandOutcome: Sendable, Equatable {
    public var reply: [UInt8]
    /// `ok`, or the error code of the reply: the `result` label of the command metrics.
    public var result: String
    public var subscribe: [Topic]
    public var unsubscribe: [Topic]
    /// When set, the transport sends the reply, then closes the session with
    /// this code (a client that keeps flooding past its rate limits, say).
    public var close: CloseCode?

    public init(reply: [UInt8], result: String = CommandOutcome.ok, subscribe: [Topic] = [], unsubscribe: [Topic] = [],
                close: CloseCode? = nil) {
        self.reply = reply
        self.result = result
        self.subscribe = subscribe
        self.unsubscribe = unsubscribe
        self.close = close
    }

    /// The result label of a successful command.
    public static let ok = "ok"

    /// An error reply to command `id`.
    public static func error(id: Int?, _ body: ErrorBody, close: CloseCode? = nil) -> CommandOutcome {
        CommandOutcome(reply: Codec.error(id: id, body), result: body.code.rawValue, close: close)
    }
}

/// The session-level effects an op collects while it runs.
struct SessionEffects {
    var subscribe: [Topic] = []
    var unsubscribe: [Topic] = []
}
