import CLibWebSockets
import SocialCore
import SocialProtocol

/// One WebSocket connection: its socket, who is on the other end, its
/// lifecycle and command order (`SessionMachine`), its send queue and the
/// topics it receives. State of `GatewayServer`, touched only on its service thread.
final class Session {
    let id: UInt64
    let wsi: OpaquePointer
    let caller: Caller
    var machine: SessionMachine<PendingCommand>
    var queue: SendQueue
    /// The message being received, across fragments.
    var rx: [UInt8] = []
    /// The current message is being dropped (over the size limit).
    var discarding = false
    /// The session is on the server's flush list (`flushQueued`).
    var flushQueued = false
    /// A ping goes out on the next writable callback.
    var pingDue = false
    /// Message bytes received in the current read round, while the session
    /// is on `GatewayServer.readList` (`readMore`).
    var roundBytes: UInt32 = 0
    /// The chat and presence topics this session receives.
    var topics: Set<Topic> = []
    /// Subscription changes that arrived while the session was loading its chats.
    var lateSubscriptions: [BusEvent.Subscription] = []
    /// A reply written just before the close frame (a command whose outcome closes the session).
    var farewell: [UInt8]?
    /// lws's polite close was started (`lws_close_free_wsi`): it sends the close frame itself.
    var closeStarted = false
    /// Presence watches held (`presence.subscribe`), bounded by `maxPresenceWatches`.
    var presenceWatches = 0
    /// Watches a running `presence.subscribe` asked for: the node already
    /// receives their presence topics; the reply decides which stay
    /// (`GatewayServer.settleWatches`).
    var pendingWatches: [UserID: PendingWatch] = [:]
    /// Chats this session is joining (`group.join` sent, not yet confirmed):
    /// the node already receives their events, which wait here until the
    /// join's `chat.added` says from which position on they are the user's.
    var joining: [ChatID: [BusEvent]] = [:]

    init(id: UInt64, wsi: OpaquePointer, caller: Caller, machine: SessionMachine<PendingCommand>, queue: SendQueue) {
        self.id = id
        self.wsi = wsi
        self.caller = caller
        self.machine = machine
        self.queue = queue
    }

    var phase: SessionMachine<PendingCommand>.Phase { machine.phase }

    /// Whether the session receives `chat`'s events (so its user is a member).
    func follows(_ chat: ChatID) -> Bool { topics.contains(.chat(chat)) }

    /// Every topic the hub has this session under: its topics, the chats it
    /// is joining and the users it is asking to watch.
    var hubTopics: Set<Topic> {
        topics.union(joining.keys.map { .chat($0) }).union(pendingWatches.keys.map { .presence($0) })
    }

    /// The other users this session watches (its own presence it may always see).
    var watchedOthers: [UserID] {
        topics.compactMap { topic in
            if case .presence(let user) = topic, user != caller.userId { return user }
            return nil
        }
    }
}

/// A command waiting in a session's order to start.
enum PendingCommand {
    /// A chat-log change, checked against the limits: straight to the store's writer.
    case log(LogChange, id: Int, span: TraceContext)
    /// Any other command: a task through the dispatcher.
    case task(Command, span: TraceContext)
}
