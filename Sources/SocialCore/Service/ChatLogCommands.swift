import Logging
import SocialProtocol

/// The chat-log ops, `chat.send`, `chat.edit`, `chat.delete`, `chat.react`
/// and `chat.read`, without a task and without an actor: the args are checked
/// against the limits on the caller's thread (`change`), the change goes
/// straight to the store's writer (`submit`), and the store calls back once it
/// is durable, on its own thread and in its commit order. That callback
/// encodes the changed message once, publishes the events that carry it, and
/// hands the reply, built around the same bytes, to `reply`.
///
/// Events therefore leave in the order the chat's changes were committed: no
/// reorder window is needed for what this node writes.
///
/// Threads: any; `change` is pure, `submit` does not block.
public final class ChatLogCommands: Sendable {
    let store: any ChatStore
    let bus: any EventBus
    let limits: ChatLimits
    let clock: @Sendable () -> Int64
    let logger: Logger

    /// - Parameters:
    ///   - store: where the changes go; its `submit` orders them.
    ///   - bus: where their events go, from the store's completion.
    ///   - limits: the limits args are checked against.
    ///   - clock: milliseconds since 1970 (message timestamps).
    ///   - logger: store failures.
    public init(store: any ChatStore, bus: any EventBus, limits: ChatLimits, clock: @escaping @Sendable () -> Int64,
                logger: Logger) {
        self.store = store
        self.bus = bus
        self.limits = limits
        self.clock = clock
        self.logger = logger
    }

    /// The change a chat-log op asks for, checked against the limits: nil
    /// when `args` are not a chat-log op, `.failure` with the error reply's
    /// body when the limits refuse them.
    public func change(_ args: CommandArgs, caller: Caller) -> Result<LogChange, ErrorBody>? {
        do throws(ServiceError) {
            switch args {
            case .chatSend(let send):
                return .success(.send(try limits.newMessage(send, sender: caller.userId,
                                                            kind: caller.kind == .bot ? .bot : .user, now: clock())))
            case .chatEdit(let edit): return .success(try limits.edit(edit, by: caller.userId, now: clock()))
            case .chatDelete(let delete): return .success(try limits.delete(delete, by: caller.userId, now: clock()))
            case .chatReact(let react): return .success(try limits.react(react, by: caller.userId))
            case .chatRead(let read): return .success(try limits.read(read, by: caller.userId))
            default: return nil
            }
        } catch {
            return .failure(error.body)
        }
    }

    /// Submits `change` (of command `id`, sent by `caller`). Once the store
    /// has made it durable, its events are published and `reply` gets the
    /// reply, both on the store's thread, in the store's commit order.
    /// - Parameter span: the command's span: its events carry it on the bus,
    ///   and a failure's log line its trace id.
    public func submit(_ change: LogChange, id: Int, caller: Caller, span: TraceContext? = nil,
                       reply: @escaping @Sendable (CommandOutcome) -> Void) {
        store.submit(change) { [self] result in
            switch result {
            case .success(let effect):
                reply(finish(change, effect, id: id, caller: caller, span: span))
            case .failure(let error):
                reply(.error(id: id, errorBody(error, change: change, id: id, caller: caller, span: span)))
            }
        }
    }

    /// `submit`, awaited (the backend API, tests): the reply frame and, for a
    /// send, the outcome as a value. The event carries `RequestContext.trace`.
    public func send(_ message: NewMessage) async throws -> SendResult {
        let span = RequestContext.trace
        let effect = try await store.commit(.send(message))
        guard case .sent(let result) = effect else { throw StoreError.unavailable("unexpected effect \(effect)") }
        let wire = result.message.wire
        if !result.duplicate {
            bus.publish([logEvent(wire.chatId, EventName.messageNew, Self.messageData(wire.json),
                                  position: wire.updatedSeq, span: span)])
        }
        return SendResult(message: wire, duplicate: result.duplicate)
    }

    /// The events and reply of a durable change. Store thread.
    private func finish(_ change: LogChange, _ effect: LogEffect, id: Int, caller: Caller,
                        span: TraceContext?) -> CommandOutcome {
        switch effect {
        case .sent(let result):
            let message = result.message.wire.json
            if !result.duplicate {
                bus.publish([logEvent(result.message.chatId, EventName.messageNew, Self.messageData(message),
                                      position: result.message.updatedSeq, span: span)])
            }
            var ok = FrameBuilder(capacity: message.count + 32)
            ok.raw("message", message)
            ok.bool("duplicate", result.duplicate)
            return CommandOutcome(reply: Codec.ok(id: id, encodedResult: ok.finish()))

        case .changed(let changed):
            let message = changed.wire.json
            var ok = FrameBuilder(capacity: message.count + 32)
            ok.raw("message", message)
            switch change {
            case .react(_, _, let user, let emoji, let add):
                var data = FrameBuilder(capacity: message.count + 64)
                data.raw("message", message)
                data.string("user_id", user)
                data.string("emoji", emoji)
                data.bool("added", add)
                bus.publish([logEvent(changed.chatId, EventName.reaction, data.finish(), position: changed.updatedSeq,
                                      span: span)])
                ok.bool("changed", true)
            case .delete:
                bus.publish([logEvent(changed.chatId, EventName.messageDeleted, Self.messageData(message),
                                      position: changed.updatedSeq, span: span)])
            default:
                bus.publish([logEvent(changed.chatId, EventName.messageEdited, Self.messageData(message),
                                      position: changed.updatedSeq, span: span)])
            }
            return CommandOutcome(reply: Codec.ok(id: id, encodedResult: ok.finish()))

        case .unchanged(let message):
            return CommandOutcome(reply: Codec.ok(id: id, ReactResult(message: message.wire, changed: false)))

        case .read(let marker):
            let chat = change.chat
            // Two concurrent reads may both publish, never neither.
            if marker.after > marker.before {
                bus.publish([BusEvent(topic: .chat(chat),
                                      frame: Codec.push(EventName.read, ReadEvent(chatId: chat, userId: caller.userId,
                                                                                   seq: marker.after)),
                                      trace: span)])
            }
            return CommandOutcome(reply: Codec.ok(id: id, ReadResult(chatId: chat, readSeq: marker.after,
                                                                     unread: marker.unread)))
        }
    }

    /// `{"message": M}`
    private static func messageData(_ message: [UInt8]) -> [UInt8] {
        var data = FrameBuilder(capacity: message.count + 16)
        data.raw("message", message)
        return data.finish()
    }

    /// A chat-log event: its position lets receivers deliver a chat's events in order.
    private func logEvent(_ chat: ChatID, _ name: String, _ data: [UInt8], position: Seq, span: TraceContext?) -> BusEvent {
        BusEvent(topic: .chat(chat), frame: Codec.push(name, encodedData: data), position: position, trace: span)
    }

    /// The error reply for a refused or failed change. Store failures are
    /// logged (an operator's concern); anything unexpected is a bug, logged as such.
    /// Store thread: no task-local context, so the ids are named here.
    private func errorBody(_ error: any Error, change: LogChange, id: Int, caller: Caller,
                           span: TraceContext?) -> ErrorBody {
        switch error {
        case let error as ServiceError:
            return error.body
        case let error as StoreError:
            if error.isNotFound { return ErrorBody(.notFound, error.message) }
            if error.isConflict { return ErrorBody(.conflict, error.message) }
            var metadata: Logger.Metadata = ["chat": .string(change.chat), "error": .string(error.description)]
            logger.warning("store unavailable", metadata: Self.ids(&metadata, id: id, caller: caller, span: span))
            return ErrorBody(.unavailable, "the store is unavailable, retry later")
        default:
            var metadata: Logger.Metadata = ["user": .string(caller.userId), "error": .string(String(describing: error))]
            logger.error("internal error", metadata: Self.ids(&metadata, id: id, caller: caller, span: span))
            return ErrorBody(.internalError, "internal error")
        }
    }

    /// `metadata` with the command's `request_id` and `trace_id`, as
    /// `RequestContext` adds them in a task.
    private static func ids(_ metadata: inout Logger.Metadata, id: Int, caller: Caller,
                            span: TraceContext?) -> Logger.Metadata {
        metadata["request_id"] = .string("\(caller.sessionId)-\(id)")
        if let span { metadata["trace_id"] = .stringConvertible(span.traceId) }
        return metadata
    }
}
