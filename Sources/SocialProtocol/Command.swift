#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A client command read once from its frame: the id to reply to, the op as
/// sent, and the typed args, or the error its args earn.
///
/// A frame is parsed once, on the transport's service thread; everything after
/// (rate limits, scopes, running the op) works on this value.
public struct Command: Sendable {
    public let id: Int
    /// The op as the client sent it (an unknown op too: rate limits and metrics see it).
    public let op: String
    /// The args, decoded by `op`; `unknown_op` or `invalid_args` when they cannot be.
    public let args: Result<CommandArgs, ErrorBody>
    /// The client's trace context, from the envelope's optional `traceparent`;
    /// nil when absent or not a valid W3C `traceparent` (ignored, not an error).
    public let traceparent: TraceContext?

    public init(id: Int, op: String, args: Result<CommandArgs, ErrorBody>, traceparent: TraceContext? = nil) {
        self.id = id
        self.op = op
        self.args = args
        self.traceparent = traceparent
    }
}

/// The args of every op of protocol v1.
public enum CommandArgs: Sendable, Equatable {
    case ping
    case groupCreate(GroupCreateArgs)
    case groupInvite(GroupUserArgs)
    case groupJoin(GroupRef)
    case groupLeave(GroupRef)
    case groupKick(GroupUserArgs)
    case groupSetRole(GroupSetRoleArgs)
    case groupTransfer(GroupUserArgs)
    case groupRename(GroupRenameArgs)
    case groupInfo(GroupRef)
    case groupsList
    case chatOpenDirect(OpenDirectArgs)
    case chatsList
    case chatSend(SendArgs)
    case chatEdit(EditArgs)
    case chatDelete(ChatSeqArgs)
    case chatReact(ReactArgs)
    case chatHistory(HistoryArgs)
    case chatRead(ChatSeqArgs)
    case chatTyping(TypingArgs)
    case sync(SyncArgs)
    case presenceSet(PresenceSetArgs)
    case presenceSubscribe(PresenceUsersArgs)
    case presenceUnsubscribe(PresenceUsersArgs)
    case presenceQuery(PresenceUsersArgs)
    case proxyRequest(ProxyRequestArgs)
    case notificationsList(NotificationsListArgs)
    case notificationsAck(NotificationsAckArgs)
}

extension Codec {
    /// Reads a command frame in one pass. A frame that is not a JSON object,
    /// or lacks an integer `id` or a string `op`, throws `bad_request` (with
    /// the id when it was readable). An unknown op or unreadable args do not
    /// throw: they come back as the command's `args` error (`unknown_op`,
    /// `invalid_args` naming the field by its path from the frame, as in
    /// `args.chats[1].seq: expected an integer`). `args` must be an object;
    /// absent or `null` reads as `{}`.
    public static func command(of frame: [UInt8]) throws(CommandDecodingError) -> Command {
        if let command = FastCommand.read(frame) { return command }
        return try decodedCommand(of: frame)
    }

    /// `command(of:)` through `JSONDecoder` only: every frame, and the wording of every error.
    static func decodedCommand(of frame: [UInt8]) throws(CommandDecodingError) -> Command {
        let raw: RawCommand
        do {
            raw = try JSONDecoder().decode(RawCommand.self, from: Data(frame))
        } catch {
            throw CommandDecodingError(id: nil, body: ErrorBody(.badRequest, "frame is not a JSON object: \(describe(error))"))
        }
        guard let id = raw.id else {
            throw CommandDecodingError(id: nil, body: ErrorBody(.badRequest, "missing or non-integer \"id\""))
        }
        guard let op = raw.op, !op.isEmpty else {
            throw CommandDecodingError(id: id, body: ErrorBody(.badRequest, "missing or non-string \"op\""))
        }
        let trace = raw.traceparent.flatMap { TraceContext(traceparent: $0) }
        switch raw.args {
        case .decoded(let args):
            return Command(id: id, op: op, args: .success(args), traceparent: trace)
        case .unknownOp:
            return Command(id: id, op: op, args: .failure(ErrorBody(.unknownOp, "unknown op \"\(op)\"")),
                           traceparent: trace)
        case .failed(let error, let probe):
            // Foundation names no field when a number does not fit an integer field.
            let named = isPathless(error) ? probe(frame) ?? error : error
            return Command(id: id, op: op, args: .failure(ErrorBody(.invalidArgs, describe(named))), traceparent: trace)
        case .none:
            throw CommandDecodingError(id: id, body: ErrorBody(.badRequest, "missing or non-string \"op\""))
        }
    }
}

/// The frame's envelope, with the args decoded by the op in the same pass.
private struct RawCommand: Decodable {
    enum Args {
        case decoded(CommandArgs)
        case unknownOp
        /// The args did not decode; `probe` finds the integer field Foundation could not name.
        case failed(any Error, probe: Probe)
    }

    let id: Int?
    let op: String?
    let args: Args?
    /// The envelope's `traceparent` when it is a string (validated by the caller).
    let traceparent: String?

    enum CodingKeys: String, CodingKey { case id, op, args, traceparent }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try? c.decodeIfPresent(Int.self, forKey: .id)
        op = try? c.decodeIfPresent(String.self, forKey: .op)
        traceparent = try? c.decodeIfPresent(String.self, forKey: .traceparent)
        guard let op else {
            args = nil
            return
        }
        guard let entry = Self.decoders[op] else {
            args = .unknownOp
            return
        }
        do {
            args = .decoded(try entry.decode(c))
        } catch {
            args = .failed(error, probe: entry.probe)
        }
    }

    /// Decodes the `args` of an op from the frame's container.
    typealias Decode = @Sendable (KeyedDecodingContainer<CodingKeys>) throws -> CommandArgs
    typealias Probe = @Sendable ([UInt8]) -> DecodingError?

    /// `args` as `T`: absent or `null` reads as `{}`, and anything but an object is `args: expected an object`.
    private static func args<T: Decodable>(_ type: T.Type, _ c: KeyedDecodingContainer<CodingKeys>) throws -> T {
        if c.contains(.args), !(try c.decodeNil(forKey: .args)) {
            _ = try c.nestedContainer(keyedBy: AnyKey.self, forKey: .args)   // an object, whatever T accepts
            return try c.decode(T.self, forKey: .args)
        }
        // Read as `{"args": {}}`, so error paths start with `args.` as when it is sent.
        return try JSONDecoder().decode(EmptyArgsFrame<T>.self, from: emptyArgs).args
    }

    private static let emptyArgs = Data(#"{"args":{}}"#.utf8)

    struct Entry: Sendable {
        let decode: Decode
        let probe: Probe
    }

    private static func entry<T: Decodable & SendableMetatype>(_ op: String, _ type: T.Type,
                                            _ wrap: @escaping @Sendable (T) -> CommandArgs) -> (String, Entry) {
        (op, Entry(decode: { try wrap(args(T.self, $0)) }, probe: { IntegerFieldProbe.error(T.self, in: $0) }))
    }

    private static let table: [(String, Entry)] = [
        entry(Op.ping, Empty.self) { _ in .ping },
        entry(Op.groupCreate, GroupCreateArgs.self, CommandArgs.groupCreate),
        entry(Op.groupInvite, GroupUserArgs.self, CommandArgs.groupInvite),
        entry(Op.groupJoin, GroupRef.self, CommandArgs.groupJoin),
        entry(Op.groupLeave, GroupRef.self, CommandArgs.groupLeave),
        entry(Op.groupKick, GroupUserArgs.self, CommandArgs.groupKick),
        entry(Op.groupSetRole, GroupSetRoleArgs.self, CommandArgs.groupSetRole),
        entry(Op.groupTransfer, GroupUserArgs.self, CommandArgs.groupTransfer),
        entry(Op.groupRename, GroupRenameArgs.self, CommandArgs.groupRename),
        entry(Op.groupInfo, GroupRef.self, CommandArgs.groupInfo),
        entry(Op.groupsList, Empty.self) { _ in .groupsList },
        entry(Op.chatOpenDirect, OpenDirectArgs.self, CommandArgs.chatOpenDirect),
        entry(Op.chatsList, Empty.self) { _ in .chatsList },
        entry(Op.chatSend, SendArgs.self, CommandArgs.chatSend),
        entry(Op.chatEdit, EditArgs.self, CommandArgs.chatEdit),
        entry(Op.chatDelete, ChatSeqArgs.self, CommandArgs.chatDelete),
        entry(Op.chatReact, ReactArgs.self, CommandArgs.chatReact),
        entry(Op.chatHistory, HistoryArgs.self, CommandArgs.chatHistory),
        entry(Op.chatRead, ChatSeqArgs.self, CommandArgs.chatRead),
        entry(Op.chatTyping, TypingArgs.self, CommandArgs.chatTyping),
        entry(Op.sync, SyncArgs.self, CommandArgs.sync),
        entry(Op.presenceSet, PresenceSetArgs.self, CommandArgs.presenceSet),
        entry(Op.presenceSubscribe, PresenceUsersArgs.self, CommandArgs.presenceSubscribe),
        entry(Op.presenceUnsubscribe, PresenceUsersArgs.self, CommandArgs.presenceUnsubscribe),
        entry(Op.presenceQuery, PresenceUsersArgs.self, CommandArgs.presenceQuery),
        entry(Op.proxyRequest, ProxyRequestArgs.self, CommandArgs.proxyRequest),
        entry(Op.notificationsList, NotificationsListArgs.self, CommandArgs.notificationsList),
        entry(Op.notificationsAck, NotificationsAckArgs.self, CommandArgs.notificationsAck),
    ]

    static let decoders: [String: Entry] = Dictionary(uniqueKeysWithValues: table)
}

private struct EmptyArgsFrame<T: Decodable>: Decodable {
    let args: T
}

/// Any key: asking for a keyed container checks that a value is an object.
private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Codec {
    /// Every op name of protocol v1 (the ops `command(of:)` decodes).
    public static var ops: [String] { RawCommand.decoders.keys.sorted() }
}

/// The hot ops read without `JSONDecoder`: `JSONReader` reads the frame, and
/// the args of `ping`, `chat.send`, `chat.edit`, `chat.delete`, `chat.react`,
/// `chat.read` and `chat.typing` are taken from the tree by hand. Anything
/// else, and anything this reader does not take exactly as `JSONDecoder`
/// would (a fractional or huge integer, attachments, a type mismatch: also
/// every malformed frame), goes to the `JSONDecoder` path, which words the
/// error. So the two paths agree on every frame this one accepts.
enum FastCommand {
    static func read(_ frame: [UInt8]) -> Command? {
        guard case .object(let top)? = JSONReader.read(frame),
              let id = integer(top["id"]), case .string(let op)? = top["op"], !op.isEmpty else { return nil }
        let args: [String: JSONValue]
        switch top["args"] {
        case nil, .null?: args = [:]
        case .object(let fields)?: args = fields
        default: return nil
        }
        guard let decoded = self.args(op, args) else { return nil }
        var trace: TraceContext?
        if case .string(let text)? = top["traceparent"] { trace = TraceContext(traceparent: text) }
        return Command(id: id, op: op, args: .success(decoded), traceparent: trace)
    }

    private static func args(_ op: String, _ a: [String: JSONValue]) -> CommandArgs? {
        switch op {
        case Op.ping:
            return .ping
        case Op.chatSend:
            guard let chat = string(a["chat_id"]), a["attachments"] == nil || a["attachments"] == .null,
                  let text = optionalString(a["text"]), let kind = optionalString(a["kind"]),
                  let clientMsgId = optionalString(a["client_msg_id"]), let replyTo = optionalInteger(a["reply_to"])
            else { return nil }
            let data = a["data"].flatMap { $0 == .null ? nil : $0 }
            return .chatSend(SendArgs(chatId: chat, text: text.value, kind: kind.value, clientMsgId: clientMsgId.value,
                                      replyTo: replyTo.value.map(Int64.init), attachments: nil, data: data))
        case Op.chatEdit:
            guard let chat = string(a["chat_id"]), let seq = integer(a["seq"]), let text = string(a["text"]) else { return nil }
            return .chatEdit(EditArgs(chatId: chat, seq: Int64(seq), text: text,
                                      data: a["data"].flatMap { $0 == .null ? nil : $0 }))
        case Op.chatDelete, Op.chatRead:
            guard let chat = string(a["chat_id"]), let seq = integer(a["seq"]) else { return nil }
            let args = ChatSeqArgs(chatId: chat, seq: Int64(seq))
            return op == Op.chatDelete ? .chatDelete(args) : .chatRead(args)
        case Op.chatReact:
            guard let chat = string(a["chat_id"]), let seq = integer(a["seq"]), let emoji = string(a["emoji"]),
                  let remove = optionalBool(a["remove"]) else { return nil }
            return .chatReact(ReactArgs(chatId: chat, seq: Int64(seq), emoji: emoji, remove: remove.value))
        case Op.chatTyping:
            guard let chat = string(a["chat_id"]) else { return nil }
            return .chatTyping(TypingArgs(chatId: chat))
        default:
            return nil
        }
    }

    /// Present values wrapped, so that "absent or null" (`.some(nil)`) differs from "wrong type" (nil).
    struct Optional<Value> {
        let value: Value?
    }

    private static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    private static func optionalString(_ value: JSONValue?) -> Optional<String>? {
        switch value {
        case nil, .null?: return Optional(value: nil)
        case .string(let text)?: return Optional(value: text)
        default: return nil
        }
    }

    private static func optionalBool(_ value: JSONValue?) -> Optional<Bool>? {
        switch value {
        case nil, .null?: return Optional(value: nil)
        case .bool(let flag)?: return Optional(value: flag)
        default: return nil
        }
    }

    /// An integer written without fraction or exponent within ±2^53 (exact in a Double);
    /// nil sends the frame to `JSONDecoder`, which reads the rest (`7.0`, `1e2`) or refuses it.
    private static func integer(_ value: JSONValue?) -> Int? {
        guard case .number(let number)? = value, number.rounded() == number,
              abs(number) <= 9_007_199_254_740_992 else { return nil }
        return Int(number)
    }

    private static func optionalInteger(_ value: JSONValue?) -> Optional<Int>? {
        switch value {
        case nil, .null?: return Optional(value: nil)
        case .number?: return integer(value).map { Optional(value: $0) }
        default: return nil
        }
    }
}
