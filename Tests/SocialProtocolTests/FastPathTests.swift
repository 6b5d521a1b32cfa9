import Foundation
import Testing
@testable import SocialProtocol

/// The hand-written readers and writers of the hot path agree with the
/// `Codable` ones on every frame they accept.
@Suite struct FastPathTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func sameCommand(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let frame = bytes(text)
        guard let fast = FastCommand.read(frame) else { return }  // declined: the decoder path reads it
        do {
            let slow = try Codec.decodedCommand(of: frame)
            #expect(fast.id == slow.id, "\(text)", sourceLocation: sourceLocation)
            #expect(fast.op == slow.op, "\(text)", sourceLocation: sourceLocation)
            #expect(fast.traceparent == slow.traceparent, "\(text)", sourceLocation: sourceLocation)
            #expect(try fast.args.get() == slow.args.get(), "\(text)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("the fast path accepted what the decoder refuses: \(text): \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func theHotOpsAreReadByTheFastPath() throws {
        for text in [
            #"{"id":1,"op":"chat.send","args":{"chat_id":"g_1","text":"hi","client_msg_id":"c1"}}"#,
            #"{"id":2,"op":"chat.edit","args":{"chat_id":"g_1","seq":4,"text":"new"}}"#,
            #"{"id":3,"op":"chat.delete","args":{"chat_id":"g_1","seq":4}}"#,
            #"{"id":4,"op":"chat.react","args":{"chat_id":"g_1","seq":4,"emoji":"👏","remove":true}}"#,
            #"{"id":5,"op":"chat.read","args":{"chat_id":"g_1","seq":9}}"#,
            #"{"id":6,"op":"chat.typing","args":{"chat_id":"g_1"}}"#,
            #"{"id":7,"op":"ping"}"#,
        ] {
            #expect(FastCommand.read(bytes(text)) != nil, "\(text)")
            sameCommand(text)
        }
    }

    /// The envelope's `traceparent` is read by both paths alike: a valid one
    /// on a hot op does not send the frame to the decoder, an invalid one is
    /// ignored by both.
    @Test func theTraceparentIsReadTheSameBothWays() throws {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        for traceparent in ["\"\(valid)\"", "\"\(valid.uppercased())\"", "\"00-\"", "null", "7", "[]", "{}",
                            "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\\u0020\"",
                            "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b\\u0037-01\""] {
            for body in [#""op":"chat.send","args":{"chat_id":"g_1","text":"hi"}"#, #""op":"ping""#,
                         #""op":"chat.read","args":{"chat_id":"g_1","seq":3}"#] {
                let text = "{\"id\":1,\(body),\"traceparent\":\(traceparent)}"
                #expect(FastCommand.read(bytes(text)) != nil, "\(text)")
                sameCommand(text)
            }
        }
        let traced = try #require(FastCommand.read(bytes(#"{"id":1,"op":"ping","traceparent":"\#(valid)"}"#)))
        #expect(traced.traceparent?.traceparent == valid)
        let escaped = try #require(FastCommand.read(bytes(#"{"id":1,"op":"ping","traceparent":"\#(valid.dropLast(2))\u0030\u0031"}"#)))
        #expect(escaped.traceparent?.traceparent == valid, "escapes read as the decoder reads them")
    }

    @Test func everyCommandExampleReadsTheSameBothWays() throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: ProtocolFiles.examples.path)
            .filter { $0.hasSuffix(".command.json") }
        #expect(examples.count > 20)
        for name in examples {
            let text = try String(contentsOfFile: ProtocolFiles.examples.appendingPathComponent(name).path, encoding: .utf8)
            sameCommand(text)
        }
    }

    /// Frames the fast path must decline, so the decoder words the error (or
    /// reads what only it reads).
    @Test(arguments: [
        #"{"id":1,"op":"chat.send","args":{"chat_id":7}}"#,
        #"{"id":1,"op":"chat.send","args":{"text":"no chat"}}"#,
        #"{"id":1,"op":"chat.read","args":{"chat_id":"c","seq":1.5}}"#,
        #"{"id":1,"op":"chat.read","args":{"chat_id":"c","seq":1e30}}"#,
        #"{"id":1,"op":"chat.read","args":{"chat_id":"c","seq":9223372036854775808}}"#,
        #"{"id":1,"op":"chat.typing","args":["c"]}"#,
        #"{"id":1,"op":"ping","args":5}"#,
        #"{"id":1.5,"op":"ping"}"#,
        #"{"id":"1","op":"ping"}"#,
        #"{"op":"ping"}"#,
        #"{"id":1,"op":"ping"} trailing"#,
        #"{"id":1,"op":"chat.send","args":{"chat_id":"c","text":"a\x"}}"#,
        #"{"id":1,"op":"chat.send","args":{"chat_id":"c","attachments":[{"url":"https://x"}]}}"#,
        #"{"id":1,"op":"group.join","args":{"group_id":"g"}}"#,
        #"{"id":1,"op":"chat.send","args":{"chat_id":"c","text":"x"},"args":{"chat_id":"d","text":"y"}}"#,
        "[1,2]", "", "nul",
    ])
    func theFastPathDeclines(_ text: String) {
        #expect(FastCommand.read(bytes(text)) == nil)
    }

    @Test func escapesAndUnicodeReadAsTheDecoderReadsThem() {
        for text in [
            #"{"id":1,"op":"chat.send","args":{"chat_id":"c","text":"line\nbreak \"quoted\" \\ \/ \t \u00e9 \ud83c\udfc3 é"}}"#,
            #"{"id":1,"op":"chat.send","args":{"chat_id":"c","text":"x","data":{"pace":4.5,"n":3,"big":1e300,"neg":-0.25,"deep":[[[{"a":null,"b":true}]]]}}}"#,
            #"{ "id" : 9007199254740992 , "op" : "chat.read" , "args" : { "chat_id" : "c" , "seq" : -3 } }"#,
            #"{"id":1,"op":"chat.send","args":{"chat_id":"c","text":null,"kind":null,"reply_to":null,"data":null,"client_msg_id":"x"}}"#,
            #"{"id":1,"op":"chat.react","args":{"chat_id":"c","seq":1,"emoji":"🔥","remove":null,"extra":{"a":[1,2]}}}"#,
        ] {
            #expect(FastCommand.read(bytes(text)) != nil, "\(text)")
            sameCommand(text)
        }
        #expect(JSONReader.read(bytes(#""\ud83c""#)) == nil, "a lone surrogate")
        #expect(JSONReader.read(bytes("\"tab\tin string\"")) == nil, "a raw control character")
        #expect(JSONReader.read(bytes("01")) == nil, "a leading zero")
    }

    /// Random frames built from pieces of valid and invalid JSON: whatever
    /// the fast path accepts, the decoder reads the same.
    @Test func randomFramesAgree() {
        var generator = Seeded(seed: 7)
        let values = [#""c""#, "7", "7.0", "-1", "1e2", "null", "true", "[]", "{}", #""a\"b""#, #""\u00e9""#, "2.5",
                      #"{"k":[1,"x",null]}"#, "9007199254740993", #""""#]
        let keys = ["chat_id", "text", "seq", "emoji", "remove", "kind", "client_msg_id", "reply_to", "data", "other"]
        let ops = [Op.chatSend, Op.chatEdit, Op.chatDelete, Op.chatReact, Op.chatRead, Op.chatTyping, Op.ping]
        var accepted = 0
        for _ in 0..<3000 {
            let op = ops.randomElement(using: &generator)!
            let fields = (0..<Int.random(in: 0...5, using: &generator)).map { _ in
                "\"\(keys.randomElement(using: &generator)!)\":\(values.randomElement(using: &generator)!)"
            }
            let id = ["1", "2.0", "-5", "\"x\"", "12345678901234"].randomElement(using: &generator)!
            let trace = ["", ",\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"",
                         ",\"traceparent\":\"00-0-0-0\"", ",\"traceparent\":1"].randomElement(using: &generator)!
            let text = "{\"id\":\(id),\"op\":\"\(op)\",\"args\":{\(fields.joined(separator: ","))}\(trace)}"
            if FastCommand.read(bytes(text)) != nil { accepted += 1 }
            sameCommand(text)
        }
        #expect(accepted > 100, "the generator exercises the fast path")
    }

    @Test func aMessageEncodedByHandDecodesToTheSameMessage() throws {
        let messages = [
            WireMessage(chatId: "g_1", seq: 4, updatedSeq: 9, sender: "u_maya", senderKind: "user", kind: "workout",
                        text: "10 km \"easy\"\nthen 6×200 m\t🏃 é \u{1}", clientMsgId: "c-1", replyTo: 2,
                        attachments: [WireAttachment(url: "https://cdn.example/a.jpg", mime: "image/jpeg", name: "a",
                                                     size: 2048, meta: .object(["w": .number(640), "ratio": .number(1.5)]))],
                        data: .object(["workout_id": .string("w-1"), "splits": .array([.number(4.5), .null, .bool(true)])]),
                        system: nil, ts: 1_764_000_000_000, editedTs: 1_764_000_001_000, deleted: false,
                        reactions: ["👏": 2, "🔥": 1]),
            WireMessage(chatId: "g_1", seq: 1, updatedSeq: 1, sender: "u_leo", senderKind: "system", kind: "system",
                        text: nil, clientMsgId: nil, replyTo: nil, attachments: nil, data: nil,
                        system: WireSystemEvent(action: "renamed", by: "u_leo", title: "Riverside \\ Run"),
                        ts: 1, editedTs: nil, deleted: true, reactions: [:]),
        ]
        for message in messages {
            let decoded = try JSONDecoder().decode(WireMessage.self, from: Data(message.json))
            #expect(decoded == message)
            #expect(!message.json.contains(0x0A), "no raw line feed")
            let viaCodable = try JSONSerialization.jsonObject(with: Data(Codec.encode(message))) as? NSDictionary
            let viaHand = try JSONSerialization.jsonObject(with: Data(message.json)) as? NSDictionary
            #expect(viaCodable == viaHand)
        }
    }
}

extension FastPathTests {
    @Test func helloAndPresenceEncodedByHandMatchTheCodableEncoding() throws {
        func same<Value: HandEncoded>(_ event: String, _ value: Value) throws {
            let viaHand = Codec.push(event, value)
            let viaCodable = Codec.encode(Push(event: event, data: value))
            #expect(!viaHand.contains(0x0A), "no raw line feed")
            let hand = try JSONSerialization.jsonObject(with: Data(viaHand)) as? NSDictionary
            let codable = try JSONSerialization.jsonObject(with: Data(viaCodable)) as? NSDictionary
            #expect(hand != nil && hand == codable, "\(String(decoding: viaHand, as: UTF8.self))")
        }
        try same(EventName.hello, HelloEvent(version: "social.v1", sessionId: "s-1", userId: "u_\"maya\"", deviceId: "ios:é",
                                              maxMessageBytes: 65_536, pingIntervalMs: 25_000, idleTimeoutMs: 60_000))
        try same(EventName.presence, PresenceEvent(presence: WirePresence(userId: "u_leo", state: "training", activity: "run/ride")))
        try same(EventName.presence, PresenceEvent(presence: WirePresence(userId: "u_leo", state: "offline", lastSeen: 1_764_000_000_000)))
    }
}

/// A small seeded generator, so random tests are the same every run.
struct Seeded: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
