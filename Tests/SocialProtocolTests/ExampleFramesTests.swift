import Testing
import SocialProtocol

/// Every frame in `protocol/examples/` goes through the codec and its Swift
/// type and back, and must come out as the same JSON: a field the Swift type
/// does not know is dropped (and the comparison fails), a field it requires
/// that the example lacks fails the decoding.
@Suite struct ExampleFramesTests {
    /// Every op of `Op`, listed by hand: Swift cannot enumerate static lets.
    /// `opsSwiftHasNoOtherNames` keeps this list in step with `Wire/Ops.swift`.
    static let ops: [String] = [
        Op.ping, Op.groupCreate, Op.groupInvite, Op.groupJoin, Op.groupLeave, Op.groupKick, Op.groupSetRole,
        Op.groupTransfer, Op.groupRename, Op.groupInfo, Op.groupsList, Op.chatOpenDirect, Op.chatsList,
        Op.chatSend, Op.chatEdit, Op.chatDelete, Op.chatReact, Op.chatHistory, Op.chatRead, Op.chatTyping, Op.sync,
        Op.presenceSet, Op.presenceSubscribe, Op.presenceUnsubscribe, Op.presenceQuery,
        // REST proxy
        Op.proxyRequest,
        Op.notificationsList, Op.notificationsAck,
    ]

    static let events: [String] = [
        EventName.hello, EventName.messageNew, EventName.messageEdited, EventName.messageDeleted, EventName.reaction,
        EventName.member, EventName.groupUpdated, EventName.typing, EventName.read, EventName.chatAdded,
        EventName.chatRemoved, EventName.invitation, EventName.resync, EventName.presence,
        EventName.notification, EventName.notificationsDigest, EventName.notificationsBadge,
    ]

    /// Each op's args type, as the gateway decodes it.
    static let commands: [String: RoundTrip] = [
        Op.ping: command(PingArgs.self),
        Op.groupCreate: command(GroupCreateArgs.self),
        Op.groupInvite: command(GroupUserArgs.self),
        Op.groupJoin: command(GroupRef.self),
        Op.groupLeave: command(GroupRef.self),
        Op.groupKick: command(GroupUserArgs.self),
        Op.groupSetRole: command(GroupSetRoleArgs.self),
        Op.groupTransfer: command(GroupUserArgs.self),
        Op.groupRename: command(GroupRenameArgs.self),
        Op.groupInfo: command(GroupRef.self),
        Op.groupsList: command(Empty.self),
        Op.chatOpenDirect: command(OpenDirectArgs.self),
        Op.chatsList: command(Empty.self),
        Op.chatSend: command(SendArgs.self),
        Op.chatEdit: command(EditArgs.self),
        Op.chatDelete: command(ChatSeqArgs.self),
        Op.chatReact: command(ReactArgs.self),
        Op.chatHistory: command(HistoryArgs.self),
        Op.chatRead: command(ChatSeqArgs.self),
        Op.chatTyping: command(TypingArgs.self),
        Op.sync: command(SyncArgs.self),
        Op.presenceSet: command(PresenceSetArgs.self),
        Op.presenceSubscribe: command(PresenceUsersArgs.self),
        Op.presenceUnsubscribe: command(PresenceUsersArgs.self),
        Op.presenceQuery: command(PresenceUsersArgs.self),
        // REST proxy
        Op.proxyRequest: command(ProxyRequestArgs.self),
        Op.notificationsList: command(NotificationsListArgs.self),
        Op.notificationsAck: command(NotificationsAckArgs.self),
    ]

    /// Each op's result type (the `ok` object).
    static let replies: [String: RoundTrip] = [
        Op.ping: reply(PingResult.self),
        Op.groupCreate: reply(GroupResult.self),
        Op.groupInvite: reply(SystemMessageResult.self),
        Op.groupJoin: reply(GroupResult.self),
        Op.groupLeave: reply(SystemMessageResult.self),
        Op.groupKick: reply(SystemMessageResult.self),
        Op.groupSetRole: reply(SystemMessageResult.self),
        Op.groupTransfer: reply(SystemMessageResult.self),
        Op.groupRename: reply(SystemMessageResult.self),
        Op.groupInfo: reply(GroupInfoResult.self),
        Op.groupsList: reply(GroupsListResult.self),
        Op.chatOpenDirect: reply(OpenDirectResult.self),
        Op.chatsList: reply(ChatsListResult.self),
        Op.chatSend: reply(SendResult.self),
        Op.chatEdit: reply(MessageResult.self),
        Op.chatDelete: reply(MessageResult.self),
        Op.chatReact: reply(ReactResult.self),
        Op.chatHistory: reply(HistoryResult.self),
        Op.chatRead: reply(ReadResult.self),
        Op.chatTyping: reply(TypingResult.self),
        Op.sync: reply(SyncResult.self),
        Op.presenceSet: reply(PresenceSelfResult.self),
        Op.presenceSubscribe: reply(PresenceListResult.self),
        Op.presenceUnsubscribe: reply(Empty.self),
        Op.presenceQuery: reply(PresenceListResult.self),
        // REST proxy
        Op.proxyRequest: reply(ProxyResult.self),
        Op.notificationsList: reply(NotificationsListResult.self),
        Op.notificationsAck: reply(NotificationsAckResult.self),
    ]

    /// Each event's data type.
    static let pushes: [String: RoundTrip] = [
        EventName.hello: push(HelloEvent.self),
        EventName.messageNew: push(MessageEvent.self),
        EventName.messageEdited: push(MessageEvent.self),
        EventName.messageDeleted: push(MessageEvent.self),
        EventName.reaction: push(ReactionEvent.self),
        EventName.member: push(SystemChangeEvent.self),
        EventName.groupUpdated: push(SystemChangeEvent.self),
        EventName.typing: push(TypingEvent.self),
        EventName.read: push(ReadEvent.self),
        EventName.chatAdded: push(ChatAddedEvent.self),
        EventName.chatRemoved: push(ChatRemovedEvent.self),
        EventName.invitation: push(InvitationEvent.self),
        EventName.resync: push(ResyncEvent.self),
        EventName.presence: push(PresenceEvent.self),
        EventName.notification: push(NotificationEvent.self),
        EventName.notificationsDigest: push(NotificationsDigestEvent.self),
        EventName.notificationsBadge: push(NotificationsBadgeEvent.self),
    ]

    /// What an example file name says the frame is. A frame with several
    /// examples names the others `<frame>--<variant>.json`.
    enum Frame: Equatable {
        case command(op: String)
        case reply(op: String)
        case event(name: String)
        case error(code: String)

        init?(fileName: String) {
            guard fileName.hasSuffix(".json") else { return nil }
            var stem = String(fileName.dropLast(".json".count))
            if let variant = stem.firstRange(of: "--") {
                guard variant.upperBound < stem.endIndex else { return nil }
                stem = String(stem[..<variant.lowerBound])
            }
            if stem.hasPrefix("error."), stem.hasSuffix(".reply") {
                self = .error(code: String(stem.dropFirst("error.".count).dropLast(".reply".count)))
            } else if stem.hasSuffix(".command") {
                self = .command(op: String(stem.dropLast(".command".count)))
            } else if stem.hasSuffix(".reply") {
                self = .reply(op: String(stem.dropLast(".reply".count)))
            } else if stem.hasSuffix(".event") {
                self = .event(name: String(stem.dropLast(".event".count)))
            } else {
                return nil
            }
        }

        var roundTrip: RoundTrip? {
            switch self {
            case .command(let op): return ExampleFramesTests.commands[op]
            case .reply(let op): return ExampleFramesTests.replies[op]
            case .event(let name): return ExampleFramesTests.pushes[name]
            case .error: return errorReply
            }
        }
    }

    @Test("every example frame survives the codec unchanged", arguments: ProtocolFiles.exampleNames())
    func exampleRoundTrips(_ name: String) throws {
        let frame = try #require(Frame(fileName: name), "\(name): not <op>.command|reply, <event>.event or error.<code>.reply")
        let roundTrip = try #require(frame.roundTrip, "\(name): no Swift type in the table")
        // "first" below is the frame as re-encoded by the codec, "second" the file.
        let bytes = try ProtocolFiles.example(name)
        let original = try ProtocolFiles.json(bytes)
        let reencoded = try ProtocolFiles.json(try roundTrip(bytes))

        switch frame {
        case .command(let op):
            let header = try Codec.header(of: bytes)
            #expect(header.op == op)
            // `args` may be omitted; the codec reads it as `{}`.
            guard case .object(var fields) = original else { Issue.record("\(name) is not an object"); return }
            if fields["args"] == nil { fields["args"] = .object([:]) }
            #expect(reencoded == .object(fields), "\(name): \(reencoded.differences(from: .object(fields)))")
        case .reply:
            #expect(reencoded == original, "\(name): \(reencoded.differences(from: original))")
        case .event(let event):
            #expect(original.field("event") == .string(event))
            #expect(reencoded == original, "\(name): \(reencoded.differences(from: original))")
        case .error(let code):
            #expect(try Codec.decode(ErrorReply.self, from: bytes).error.code == ErrorCode(rawValue: code))
            #expect(reencoded == original, "\(name): \(reencoded.differences(from: original))")
        }
    }

    @Test func everyOpHasACommandAndAReplyExample() {
        let names = Set(ProtocolFiles.exampleNames())
        #expect(Self.ops.count == 28)
        for op in Self.ops {
            #expect(names.contains("\(op).command.json"), "no command example for \(op)")
            #expect(names.contains("\(op).reply.json"), "no reply example for \(op)")
        }
    }

    @Test func everyEventHasAnExample() {
        let names = Set(ProtocolFiles.exampleNames())
        for event in Self.events {
            #expect(names.contains("\(event).event.json"), "no example for event \(event)")
        }
    }

    @Test func theTablesNameEveryOpAndEventOnce() {
        #expect(Set(Self.ops).count == Self.ops.count)
        #expect(Set(Self.events).count == Self.events.count)
        #expect(Set(Self.commands.keys) == Set(Self.ops))
        #expect(Set(Self.replies.keys) == Set(Self.ops))
        #expect(Set(Self.pushes.keys) == Set(Self.events))
    }

    /// The lists above must hold every name of `Wire/Ops.swift`: count its
    /// `public static let` lines per enum and compare the names themselves.
    @Test func opsSwiftHasNoOtherNames() throws {
        let source = try ProtocolFiles.text("Sources/SocialProtocol/Wire/Ops.swift")
        let parts = source.components(separatedBy: "public enum EventName")
        try #require(parts.count == 2, "Ops.swift no longer declares `public enum EventName`")
        let opLines = Self.staticLets(parts[0])
        let eventLines = Self.staticLets(parts[1])
        #expect(opLines.count == Self.ops.count, "Op has \(opLines.count) names, this test lists \(Self.ops.count)")
        #expect(eventLines.count == Self.events.count, "EventName has \(eventLines.count) names, this test lists \(Self.events.count)")
        #expect(Set(opLines.compactMap(Self.quoted)) == Set(Self.ops))
        #expect(Set(eventLines.compactMap(Self.quoted)) == Set(Self.events))
    }

    @Test func aVariantExampleIsReadAsItsFrame() {
        #expect(Frame(fileName: "group.info.reply--invited.json") == .reply(op: Op.groupInfo))
        #expect(Frame(fileName: "error.conflict.reply--full.json") == .error(code: "conflict"))
        #expect(Frame(fileName: "group.info.reply--.json") == nil)
    }

    @Test func everyExampleIsAKnownFrame() {
        let names = ProtocolFiles.exampleNames()
        #expect(names.count > Self.ops.count * 2 + Self.events.count)
        for name in names {
            #expect(Frame(fileName: name)?.roundTrip != nil, "\(name) has no Swift type in the tables")
        }
    }

    // The round trip must be able to fail, or the tests above prove nothing.

    @Test func aFieldTheSwiftTypeDoesNotKnowIsCaught() throws {
        let bytes = Array(#"{"id":1,"ok":{"server_time":5,"server_zone":"UTC"}}"#.utf8)
        let reencoded = try ProtocolFiles.json(try Self.replies[Op.ping]!(bytes))
        #expect(reencoded != (try ProtocolFiles.json(bytes)))
    }

    @Test func aMissingRequiredFieldIsCaught() throws {
        var message = try #require(try ProtocolFiles.json(ProtocolFiles.example("message.new.event.json")).field("data")?.field("message"))
        guard case .object(var fields) = message else { Issue.record("message is not an object"); return }
        fields["reactions"] = nil
        message = .object(fields)
        let frame = Codec.encode(JSONValue.object(["event": .string("message.new"), "data": .object(["message": message])]))
        #expect(throws: (any Error).self) { try Self.pushes[EventName.messageNew]!(frame) }
    }

    @Test func aRenamedFieldIsCaught() throws {
        let text = String(decoding: try ProtocolFiles.example("chat.read.reply.json"), as: UTF8.self)
            .replacing("\"read_seq\"", with: "\"readSeq\"")
        #expect(throws: (any Error).self) { try Self.replies[Op.chatRead]!(Array(text.utf8)) }
    }

    private static func staticLets(_ text: String) -> [Substring] {
        text.split(separator: "\n").filter { $0.contains("public static let ") }
    }

    private static func quoted(_ line: Substring) -> String? {
        let parts = line.split(separator: "\"", omittingEmptySubsequences: false)
        return parts.count == 3 ? String(parts[1]) : nil
    }
}

/// Decodes a frame into its Swift type and encodes it back with the codec.
typealias RoundTrip = @Sendable ([UInt8]) throws -> [UInt8]

private struct OkFrame<Result: Decodable>: Decodable {
    let id: Int
    let ok: Result
}

private struct PushFrame<Data: Decodable>: Decodable {
    let event: String
    let data: Data
}

private struct CommandFrame<Args: Encodable>: Encodable {
    let id: Int
    let op: String
    let args: Args
    /// The envelope's trace context, as the codec reads it (absent when none).
    let traceparent: String?
}

private func command<Args: Codable & Sendable>(_: Args.Type) -> RoundTrip {
    { frame in
        let header = try Codec.header(of: frame)
        let args = try Codec.args(Args.self, of: frame, id: header.id)
        let traceparent = try Codec.command(of: frame).traceparent?.traceparent
        return Codec.encode(CommandFrame(id: header.id, op: header.op, args: args, traceparent: traceparent))
    }
}

private func reply<Result: Codable & Sendable>(_: Result.Type) -> RoundTrip {
    { frame in
        let reply = try Codec.decode(OkFrame<Result>.self, from: frame)
        return Codec.ok(id: reply.id, reply.ok)
    }
}

private func push<Data: Codable & Sendable>(_: Data.Type) -> RoundTrip {
    { frame in
        let push = try Codec.decode(PushFrame<Data>.self, from: frame)
        return Codec.push(push.event, push.data)
    }
}

private let errorReply: RoundTrip = { frame in
    let reply = try Codec.decode(ErrorReply.self, from: frame)
    return Codec.error(id: reply.id, reply.error)
}

extension JSONValue {
    /// The value of `key` when this is an object.
    func field(_ key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }
}
