import Testing
import SocialProtocol

/// How `Codec` reads commands that are not well formed, and how it writes
/// error replies: the behaviour `protocol/README.md` and `errors.md` describe.
@Suite struct CodecTests {
    private func header(_ text: String) throws(CommandDecodingError) -> CommandHeader {
        try Codec.header(of: Array(text.utf8))
    }

    private func headerError(_ text: String) -> CommandDecodingError? {
        do {
            _ = try header(text)
            return nil
        } catch {
            return error
        }
    }

    private func argsError<Args: Decodable>(_ type: Args.Type, _ text: String) -> CommandDecodingError? {
        do {
            _ = try Codec.args(type, of: Array(text.utf8), id: 9)
            return nil
        } catch {
            return error
        }
    }

    // MARK: header

    @Test func readsIdAndOp() throws {
        #expect(try header(#"{"id": 41, "op": "chat.send", "args": {}}"#) == CommandHeader(id: 41, op: "chat.send"))
    }

    @Test(arguments: ["hello", "", "{\"id\": 1, \"op\": \"ping\"", #"{"id":1,"op":"ping"} trailing"#])
    func notJSONIsABadRequestWithoutId(_ text: String) throws {
        let error = try #require(headerError(text))
        #expect(error.id == nil)
        #expect(error.body.code == .badRequest)
        #expect(error.body.message.hasPrefix("frame is not a JSON object"))
        #expect(error.body.temporary == false)
    }

    @Test(arguments: ["[1, 2]", "42", #""ping""#, "null", "true"])
    func aFrameThatIsNotAnObjectIsABadRequestWithoutId(_ text: String) throws {
        let error = try #require(headerError(text))
        #expect(error.id == nil)
        #expect(error.body.code == .badRequest)
        #expect(error.body.message.hasPrefix("frame is not a JSON object"))
    }

    @Test(arguments: [
        #"{"op": "ping"}"#, #"{"id": null, "op": "ping"}"#, #"{"id": "7", "op": "ping"}"#,
        #"{"id": 7.5, "op": "ping"}"#, #"{"id": true, "op": "ping"}"#, #"{"id": [7], "op": "ping"}"#,
        #"{"id": 9223372036854775808, "op": "ping"}"#,
    ])
    func aMissingOrNonIntegerIdRepliesWithIdNull(_ text: String) throws {
        let error = try #require(headerError(text))
        #expect(error.id == nil)
        #expect(error.body.code == .badRequest)
        #expect(error.body.message.contains("\"id\""))
    }

    /// A number with an integral value is read as that integer (the reply echoes `7`).
    @Test func anIntegralNumberIsAnId() throws {
        #expect(try header(#"{"id": 7.0, "op": "ping"}"#).id == 7)
        #expect(try header(#"{"id": 1e2, "op": "ping"}"#).id == 100)
        #expect(try header(#"{"id": -3, "op": "ping"}"#).id == -3)
    }

    @Test(arguments: [#"{"id": 5}"#, #"{"id": 5, "op": 3}"#, #"{"id": 5, "op": ""}"#, #"{"id": 5, "op": null}"#])
    func aMissingOpIsABadRequestWithTheId(_ text: String) throws {
        let error = try #require(headerError(text))
        #expect(error.id == 5)
        #expect(error.body.code == .badRequest)
        #expect(error.body.message.contains("\"op\""))
    }

    @Test func unknownTopLevelFieldsAreIgnored() throws {
        #expect(try header(#"{"id": 2, "op": "ping", "trace": "abc"}"#) == CommandHeader(id: 2, op: "ping"))
    }

    // MARK: args

    @Test(arguments: [#"{"id": 9, "op": "chats.list"}"#, #"{"id": 9, "op": "chats.list", "args": null}"#])
    func missingArgsReadAsAnEmptyObject(_ text: String) throws {
        #expect(try Codec.args(Empty.self, of: Array(text.utf8), id: 9) == Empty())
        #expect(try Codec.args(HistoryArgs.self, of: Array(#"{"id": 9, "op": "chat.history", "args": {"chat_id": "c"}}"#.utf8), id: 9)
            == HistoryArgs(chatId: "c"))
        // Optional fields default to absent in an `{}` too.
        #expect(try Codec.args(SyncArgs.self, of: Array(#"{"id": 9, "op": "sync", "args": {"chats": []}}"#.utf8), id: 9)
            == SyncArgs(chats: []))
    }

    @Test(arguments: [#"{"id": 9, "op": "chat.send"}"#, #"{"id": 9, "op": "chat.send", "args": null}"#])
    func missingArgsOfAnOpWithRequiredFieldsNameTheFieldUnderArgs(_ text: String) throws {
        let error = try #require(argsError(SendArgs.self, text))
        #expect(error.id == 9)
        #expect(error.body.code == .invalidArgs)
        // The same path as when `args` is sent without the field.
        #expect(error.body.message == "args.chat_id: required field is missing")
    }

    @Test func aMissingRequiredFieldIsNamedWithItsPath() throws {
        let error = try #require(argsError(SendArgs.self, #"{"id": 9, "op": "chat.send", "args": {"text": "hi"}}"#))
        #expect(error.id == 9)
        #expect(error.body.code == .invalidArgs)
        #expect(error.body.message == "args.chat_id: required field is missing")
    }

    @Test func aWrongArgTypeNamesTheFieldPath() throws {
        let error = try #require(argsError(SendArgs.self, #"{"id": 9, "op": "chat.send", "args": {"chat_id": 7}}"#))
        #expect(error.id == 9)
        #expect(error.body.code == .invalidArgs)
        #expect(error.body.message == "args.chat_id: expected a string")
        #expect(error.body.temporary == false)
    }

    @Test func aWrongTypeInsideAnArrayNamesTheIndex() throws {
        let text = #"{"id": 9, "op": "sync", "args": {"chats": [{"chat_id": "c", "seq": 1}, {"chat_id": "d", "seq": "2"}]}}"#
        let error = try #require(argsError(SyncArgs.self, text))
        #expect(error.body.code == .invalidArgs)
        #expect(error.body.message == "args.chats[1].seq: expected an integer")
    }

    @Test func aNullForARequiredFieldIsNamed() throws {
        let error = try #require(argsError(ChatSeqArgs.self, #"{"id": 9, "op": "chat.read", "args": {"chat_id": "c", "seq": null}}"#))
        #expect(error.body.message == "args.seq: expected an integer, found null")
    }

    @Test func argsThatAreNotAnObjectAreInvalid() throws {
        let error = try #require(argsError(TypingArgs.self, #"{"id": 9, "op": "chat.typing", "args": ["c"]}"#))
        #expect(error.body.code == .invalidArgs)
        #expect(error.body.message == "args: expected an object")
    }

    /// Foundation reports a number that does not fit the field's integer type
    /// without a coding path; the codec finds the field and names it.
    @Test(arguments: [
        (#"{"chat_id": "c", "seq": 1.5}"#, "args.seq: expected an integer, found 1.5"),
        (#"{"chat_id": "c", "seq": 1e30}"#, "args.seq: 1e+30 is out of range"),
        (#"{"chat_id": "c", "seq": 9223372036854775808}"#, "args.seq: 9.223372036854776e+18 is out of range"),
    ])
    func aNumberThatIsNotAnIntegerOfTheFieldIsNamed(_ args: String, _ message: String) throws {
        let error = try #require(argsError(ChatSeqArgs.self, #"{"id": 9, "op": "chat.read", "args": \#(args)}"#))
        #expect(error.id == 9)
        #expect(error.body.code == .invalidArgs)
        #expect(error.body.message == message)
    }

    @Test func aFractionalNumberDeepInTheArgsIsNamedWithItsPath() throws {
        let text = #"{"id": 9, "op": "sync", "args": {"chats": [{"chat_id": "c", "seq": 1}, {"chat_id": "d", "seq": 2, "read_seq": 0.5}]}}"#
        let error = try #require(argsError(SyncArgs.self, text))
        #expect(error.body.message == "args.chats[1].read_seq: expected an integer, found 0.5")
    }

    /// Fractions are fine in JSON values the gateway does not interpret: the
    /// integer field is the one named.
    @Test func fractionsInDataAreNotBlamed() throws {
        let text = #"{"id": 9, "op": "chat.send", "args": {"chat_id": "c", "data": {"pace": 4.5}, "reply_to": 2.5}}"#
        let error = try #require(argsError(SendArgs.self, text))
        #expect(error.body.message == "args.reply_to: expected an integer, found 2.5")
        let fine = #"{"id": 9, "op": "chat.send", "args": {"chat_id": "c", "data": {"pace": 4.5}, "reply_to": 2.0}}"#
        let args = try Codec.args(SendArgs.self, of: Array(fine.utf8), id: 9)
        #expect(args.replyTo == 2)
        #expect(args.data == .object(["pace": .number(4.5)]))
    }

    @Test func unknownArgsFieldsAreIgnored() throws {
        let text = #"{"id": 9, "op": "chat.typing", "args": {"chat_id": "c", "since": 3, "mood": "fast"}}"#
        #expect(try Codec.args(TypingArgs.self, of: Array(text.utf8), id: 9) == TypingArgs(chatId: "c"))
    }

    @Test func nullForAnOptionalArgIsTheSameAsAbsent() throws {
        let text = #"{"id": 9, "op": "chat.react", "args": {"chat_id": "c", "seq": 4, "emoji": "👏", "remove": null}}"#
        #expect(try Codec.args(ReactArgs.self, of: Array(text.utf8), id: 9) == ReactArgs(chatId: "c", seq: 4, emoji: "👏"))
    }

    // MARK: replies

    @Test func anErrorReplyWithoutIdEncodesIdNull() throws {
        let frame = Codec.error(id: nil, ErrorBody(.badRequest, "frame is not a JSON object: malformed JSON"))
        let json = try ProtocolFiles.json(frame)
        #expect(json == .object([
            "id": .null,
            "error": .object([
                "code": .string("bad_request"),
                "message": .string("frame is not a JSON object: malformed JSON"),
                "temporary": .bool(false),
            ]),
        ]))
    }

    @Test func anErrorReplyEchoesTheIdAndRetryAfter() throws {
        let frame = Codec.error(id: 12, ErrorBody(.rateLimited, "slow down", retryAfterMs: 1500))
        #expect(try ProtocolFiles.json(frame) == .object([
            "id": .number(12),
            "error": .object([
                "code": .string("rate_limited"), "message": .string("slow down"),
                "temporary": .bool(true), "retry_after_ms": .number(1500),
            ]),
        ]))
    }

    @Test func temporaryDefaultsFromTheCodeAndCanBeOverridden() {
        #expect(ErrorBody(.unavailable, "").temporary)
        #expect(!ErrorBody(.notFound, "").temporary)
        #expect(!ErrorBody(.unavailable, "", temporary: false).temporary)
    }

    @Test func anUnknownErrorCodeDecodes() throws {
        let frame = Array(#"{"id": 3, "error": {"code": "quota_exceeded", "message": "m", "temporary": false}}"#.utf8)
        #expect(try Codec.decode(ErrorReply.self, from: frame).error.code == ErrorCode(rawValue: "quota_exceeded"))
    }

    @Test func okAndPushFramesHaveTheEnvelope() throws {
        #expect(try ProtocolFiles.json(Codec.ok(id: 4, TypingResult(throttled: true)))
            == .object(["id": .number(4), "ok": .object(["throttled": .bool(true)])]))
        #expect(try ProtocolFiles.json(Codec.push(EventName.resync, ResyncEvent(reason: "bus_interrupted")))
            == .object(["event": .string("resync"), "data": .object(["reason": .string("bus_interrupted")])]))
    }

    /// Server frames may be batched one message per line (README, "Frames"):
    /// an encoded message must never contain a raw line feed.
    @Test func anEncodedFrameHasNoLineFeed() {
        let message = WireMessage(
            chatId: "c", seq: 1, updatedSeq: 1, sender: "u", senderKind: "user", kind: "text",
            text: "line one\nline two\r\n", clientMsgId: nil, replyTo: nil, attachments: nil,
            data: .object(["note": .string("a\nb")]), system: nil, ts: 0, editedTs: nil, deleted: false, reactions: [:])
        let frame = Codec.push(EventName.messageNew, MessageEvent(message: message))
        #expect(!frame.contains(0x0A))
        #expect(!frame.contains(0x0D))
    }

    @Test func optionalFieldsAreOmittedNotNull() throws {
        let chat = WireChat(chatId: "dm_1", groupId: nil, kind: "direct", title: nil, open: nil, owner: nil,
                            members: ["a", "b"], role: "member", seq: 0, readSeq: 0, unread: 0, lastMessage: nil)
        let json = try ProtocolFiles.json(Codec.encode(chat))
        guard case .object(let fields) = json else { Issue.record("not an object"); return }
        #expect(Set(fields.keys) == ["chat_id", "kind", "members", "role", "seq", "read_seq", "unread"])
    }

    @Test func slashesAreNotEscaped() {
        let frame = Codec.encode(WireAttachment(url: "https://cdn.social.example/a.jpg"))
        #expect(String(decoding: frame, as: UTF8.self) == #"{"url":"https://cdn.social.example/a.jpg"}"#)
    }
}
