import Logging
import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// A dispatcher over a fresh in-memory store (behind a switchable fault injector), a recording bus, a manual clock
/// and sequential ids, with helpers that speak the wire protocol to it the way the transport does (a
/// `PipelineHarness`: parsed once, started by the command pipeline, then submitted to the store or run in a task).
struct ServiceFixture {
    struct ReplyError: Error, CustomStringConvertible {
        let body: ErrorBody
        var description: String { "\(body.code): \(body.message)" }
    }

    /// The store behind the dispatcher, for checking what was written.
    let store: any ChatStore
    let bus = RecordingBus()
    let clock = ManualClock()
    let dispatcher: Dispatcher
    /// Runs frames through a command pipeline, as the transport's service thread does.
    let harness: PipelineHarness
    private let counter = SequentialChatIDs()

    /// The store as the dispatcher sees it: `store`, until told to fail.
    let faults: FailingChatStore

    /// - Parameters:
    ///   - limits: the dispatcher's limits.
    ///   - store: the backend (default: a fresh `MemoryChatStore`).
    init(limits: ChatLimits = .init(), store: any ChatStore = MemoryChatStore()) {
        self.store = store
        faults = FailingChatStore(store)
        dispatcher = Dispatcher(store: faults, bus: bus, limits: limits, clock: clock.read,
                                ids: counter.generate, logger: Logger(label: "test.service"))
        harness = PipelineHarness(dispatcher: dispatcher, store: faults)
    }

    /// The caller `raw` uses for `user` on `device`.
    static func caller(_ user: UserID, device: String = "phone") -> Caller {
        Caller(userId: user, deviceId: device, sessionId: "s-\(user)-\(device)")
    }

    /// Sends a raw frame as `user` and returns the raw reply.
    func raw(_ frame: [UInt8], as user: UserID, device: String = "phone") async -> [UInt8] {
        await harness.reply(frame, from: Self.caller(user, device: device))
    }

    /// Runs `op` as `user` and returns its result; an error reply throws `ReplyError`.
    func call<Result: Decodable>(_ user: UserID, _ op: String, _ args: some Encodable = Empty(),
                                 device: String = "phone", as type: Result.Type = Result.self) async throws -> Result {
        let reply = try TestReply<Result>(frame: await raw(TestCommand(id: 7, op: op, args: args).frame,
                                                           as: user, device: device))
        #expect(reply.id == 7)
        if let error = reply.error { throw ReplyError(body: error) }
        return try #require(reply.ok)
    }

    /// Runs `op` as `user`, expecting an error reply, and returns the error.
    func failure(_ user: UserID, _ op: String, _ args: some Encodable = Empty(),
                 device: String = "phone") async throws -> ErrorBody {
        let reply = try TestReply<Empty>(frame: await raw(TestCommand(id: 9, op: op, args: args).frame,
                                                          as: user, device: device))
        #expect(reply.id == 9)
        return try #require(reply.error, "expected an error reply to \(op)")
    }

    // MARK: Shortcuts

    /// A group owned by `owner` with `members` joined (invited, then joined).
    func group(_ owner: UserID, title: String = "Run club", open: Bool = false,
               members: [UserID] = []) async throws -> ChatID {
        let created: GroupResult = try await call(owner, Op.groupCreate, GroupCreateArgs(title: title, open: open))
        let id = created.group.chatId
        for user in members {
            let _: SystemMessageResult = try await call(owner, Op.groupInvite, GroupUserArgs(groupId: id, userId: user))
            let _: GroupResult = try await call(user, Op.groupJoin, GroupRef(groupId: id))
        }
        return id
    }

    /// The direct chat of `a` and `b`.
    func direct(_ a: UserID, _ b: UserID) async throws -> ChatID {
        let result: OpenDirectResult = try await call(a, Op.chatOpenDirect, OpenDirectArgs(userId: b))
        return result.chat.chatId
    }

    /// Sends a text message and returns it.
    @discardableResult
    func send(_ user: UserID, _ chat: ChatID, _ text: String, clientMsgId: String? = nil,
              replyTo: Int64? = nil) async throws -> WireMessage {
        let result: SendResult = try await call(user, Op.chatSend,
                                                SendArgs(chatId: chat, text: text, clientMsgId: clientMsgId, replyTo: replyTo))
        return result.message
    }

    /// The names of the events published so far to `topic`.
    func eventNames(on topic: Topic) -> [String] {
        bus.events(on: topic).map { $0.eventName ?? "?" }
    }
}
