import SocialProtocol

/// Where an event goes: every local session of a chat's members, every
/// local session of one user, or every local session watching a user's presence.
public enum Topic: Hashable, Sendable {
    case chat(ChatID)
    case user(UserID)
    /// Sessions that called `presence.subscribe` for this user.
    case presence(UserID)
}

/// An event on the bus: the encoded push frame, sent as is to every session
/// the topic reaches, so it is encoded once however many receive it.
public struct BusEvent: Sendable, Equatable {
    /// A change of which chats a user's sessions receive.
    public struct Subscription: Sendable, Equatable {
        public var chat: ChatID
        public var joined: Bool
        public init(chat: ChatID, joined: Bool) {
            self.chat = chat
            self.joined = joined
        }
    }

    public var topic: Topic
    /// One encoded server push (`{"event": ..., "data": ...}`), or empty for a
    /// pure subscription change.
    public var frame: [UInt8]
    /// Ephemeral events (typing, presence) are the first dropped for a slow client.
    public var ephemeral: Bool
    /// On `.user` topics: the user's sessions start or stop receiving a chat.
    /// Applied before `frame` is delivered.
    public var subscription: Subscription?
    /// On `.chat` topics, for events of the chat's log: the chat position the
    /// event moves to. Receivers deliver a chat's events in position order.
    /// On `.user` topics with a `subscription` that joins: the chat's position
    /// at the join (the user receives the chat's events from there on).
    public var position: Seq?
    /// On `.user` topics: close every session of the user on every node with
    /// 4003 `forcedDisconnect`, this text as the close reason (the backend
    /// API's force-disconnect). Applied after `frame` is queued.
    public var disconnect: String?
    /// The span of the command or API request that published the event, so
    /// the node that delivers it logs the same trace id. Not sent to clients.
    public var trace: TraceContext?

    public init(topic: Topic, frame: [UInt8], ephemeral: Bool = false, subscription: Subscription? = nil,
                position: Seq? = nil, disconnect: String? = nil, trace: TraceContext? = nil) {
        self.topic = topic
        self.frame = frame
        self.ephemeral = ephemeral
        self.subscription = subscription
        self.position = position
        self.disconnect = disconnect
        self.trace = trace
    }
}

extension EventBus {
    /// Publishes `events`, each stamped with `trace` unless it has one.
    public func publish(_ events: [BusEvent], trace: TraceContext?) {
        guard let trace else { return publish(events) }
        publish(events.map { event in
            var event = event
            if event.trace == nil { event.trace = trace }
            return event
        })
    }
}

/// Receives what the bus delivers to this node. The transport implements it.
public protocol BusSink: AnyObject, Sendable {
    /// Called from the bus's own thread or task; must not block.
    func deliver(_ events: [BusEvent])
    /// The bus lost events (a reconnect): clients of this node should `sync`.
    func busInterrupted()
}

/// Fans events out between gateway nodes. The in-process bus delivers straight
/// to this node's sink; the Redis bus publishes to channels that other nodes
/// subscribe to, following where their users are.
public protocol EventBus: Sendable {
    /// Sets where received events go. Called once, before `publish`.
    func attach(_ sink: any BusSink)
    /// Publishes events, in order. Must not block.
    func publish(_ events: [BusEvent])
    /// This node now has sessions interested in `topic` (first one) or none (last one).
    func setInterest(_ topic: Topic, _ interested: Bool)
    /// Calls `then` once every interest this node registered before the call
    /// is in effect: events published from then on reach the node. At once for
    /// the in-process bus; the Redis bus waits for its subscriptions to be
    /// confirmed (or calls at once while it is down: a reconnect resyncs
    /// clients anyway). `then` runs on any thread and must not block.
    func afterSubscribed(_ then: @escaping @Sendable () -> Void)
    /// Whether the bus is connected (for `/readyz`).
    func isHealthy() -> Bool
    /// Whether other nodes publish to this bus too: a chat's events from them
    /// can arrive out of position order, so receivers hold them back briefly
    /// (`--reorder-window-ms`). False for the in-process bus, where events
    /// arrive in the store's commit order.
    var isDistributed: Bool { get }
}

extension EventBus {
    public var isDistributed: Bool { false }
    public func afterSubscribed(_ then: @escaping @Sendable () -> Void) { then() }
}
