import SocialCore
import SocialLWS
import SocialProtocol
import Synchronization

/// TEMP (stores branch): the minimum to compile against the new SocialCore
/// until the lead's transport lands. Each frame is parsed once
/// (`Codec.command`) and started by a `CommandPipeline` kept under a `Mutex`;
/// a chat-log change is submitted to the store and its reply awaited, the
/// rest runs through `Dispatcher.execute`. `follows` asks the store.
struct GatewayCommands: CommandHandler {
    let dispatcher: Dispatcher
    let store: any ChatStore
    private let pipeline: Pipeline

    /// The pipeline, shared by every copy of this value.
    private final class Pipeline: Sendable {
        let state: Mutex<CommandPipeline>
        init(_ dispatcher: Dispatcher) { state = Mutex(CommandPipeline(dispatcher: dispatcher)) }
    }

    init(dispatcher: Dispatcher, store: any ChatStore) {
        self.dispatcher = dispatcher
        self.store = store
        pipeline = Pipeline(dispatcher)
    }

    func handle(_ frame: [UInt8], from connection: ConnectionInfo) async -> CommandOutcome {
        let caller = caller(connection)
        let command: Command
        do throws(CommandDecodingError) {
            command = try Codec.command(of: frame)
        } catch {
            return .error(id: error.id, error.body)
        }
        var followed: Set<ChatID> = []
        if case .success(.chatTyping(let args)) = command.args,
           (try? await store.member(args.chatId, caller.userId)) != nil {
            followed.insert(args.chatId)
        }
        let dispatcher = dispatcher
        return await withCheckedContinuation { (continuation: CheckedContinuation<CommandOutcome, Never>) in
            let start = pipeline.state.withLock { pipeline -> CommandPipeline.Start in
                let start = pipeline.start(command, caller: caller, follows: { followed.contains($0) })
                if case .log(let change) = start {
                    pipeline.submit(change, id: command.id, caller: caller) { continuation.resume(returning: $0) }
                }
                return start
            }
            switch start {
            case .done(let outcome): continuation.resume(returning: outcome)
            case .log: break
            case .task: Task { continuation.resume(returning: await dispatcher.execute(command, from: caller)) }
            }
        }
    }

    func subscriptions(of user: String) async throws -> [String] {
        try await dispatcher.chats(of: user)
    }

    func sessionOpened(_ connection: ConnectionInfo) async {
        pipeline.state.withLock { $0.open(caller(connection)) }
        await dispatcher.sessionOpened(caller(connection))
    }

    func sessionClosed(_ connection: ConnectionInfo) async {
        pipeline.state.withLock { $0.close(caller(connection)) }
        await dispatcher.sessionClosed(caller(connection))
    }

    func heartbeat(_ connections: [ConnectionInfo]) async {
        await dispatcher.presenceHeartbeat(connections.map(caller))
    }

    func backendsReady() async -> Bool {
        await store.ping()
    }

    private func caller(_ connection: ConnectionInfo) -> Caller {
        Caller(userId: connection.userId, deviceId: connection.deviceId, sessionId: connection.sessionId,
               kind: connection.isBot ? .bot : .user, scopes: connection.scopes, accessToken: connection.accessToken)
    }
}
