import SocialCore
import SocialProtocol
import Synchronization

/// Runs commands the way the transport does, without a socket: each frame is
/// parsed once (`Codec.command`), started by a `CommandPipeline` (rate limits,
/// scopes, the ops answered at once), and then, by what `start` says, a
/// chat-log change is submitted to the store and its reply awaited, or the
/// command runs through `Dispatcher.execute`; each command gets its span
/// (`CommandPipeline.span(for:)`), as on the transport.
///
/// `follows` (does the session receive the chat's events?) is answered from
/// the store's memberships: tests have no transport subscriptions, and a
/// member's session is subscribed to the member's chats.
///
/// Threads: any task. The pipeline, which the transport keeps on its one
/// service thread, is kept under a `Mutex`; `start` and a change's `submit`
/// happen in one critical section, so changes reach the store in the order
/// their commands started, as on the service thread.
public final class PipelineHarness: Sendable {
    public let dispatcher: Dispatcher
    private let store: any ChatStore
    private let pipeline: Mutex<CommandPipeline>

    /// - Parameters:
    ///   - dispatcher: runs the commands that need a task.
    ///   - store: where `follows` looks memberships up (the dispatcher's store).
    public init(dispatcher: Dispatcher, store: any ChatStore) {
        self.dispatcher = dispatcher
        self.store = store
        pipeline = Mutex(CommandPipeline(dispatcher: dispatcher))
    }

    /// A session opened: its rate-limit buckets, then its presence.
    public func open(_ caller: Caller) async {
        pipeline.withLock { $0.open(caller) }
        await dispatcher.sessionOpened(caller)
    }

    /// A session closed: its buckets go, then its presence.
    public func close(_ caller: Caller) async {
        pipeline.withLock { $0.close(caller) }
        await dispatcher.sessionClosed(caller)
    }

    /// Runs `frame` from `caller` and returns the outcome (the reply frame,
    /// topics to follow or drop, a close code).
    public func run(_ frame: [UInt8], from caller: Caller) async -> CommandOutcome {
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
        return await withCheckedContinuation { (continuation: CheckedContinuation<CommandOutcome, Never>) in
            let (start, span) = pipeline.withLock { pipeline -> (CommandPipeline.Start, TraceContext) in
                let span = pipeline.span(for: command)
                let start = pipeline.start(command, span: span, caller: caller, follows: { followed.contains($0) })
                if case .log(let change) = start {
                    pipeline.submit(change, id: command.id, caller: caller, span: span) {
                        continuation.resume(returning: $0)
                    }
                }
                return (start, span)
            }
            switch start {
            case .done(let outcome):
                continuation.resume(returning: outcome)
            case .log:
                break                       // resumed by the store's completion
            case .task:
                Task { continuation.resume(returning: await self.dispatcher.execute(command, from: caller, span: span)) }
            }
        }
    }

    /// `run`, returning just the reply frame.
    public func reply(_ frame: [UInt8], from caller: Caller) async -> [UInt8] {
        await run(frame, from: caller).reply
    }
}
