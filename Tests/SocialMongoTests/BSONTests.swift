import SocialCore
@testable import SocialMongo
import SocialProtocol
import Testing

/// Encoding to libbson and reading back with `bson_iter_*`, and the stored
/// forms of messages and pending changes. No server needed.
@Suite struct BSONTests {
    @Test func documentsSurviveARoundTripThroughLibbson() {
        let document: BSONDocument = [
            "text": "5 km 🏃 \u{0}after a NUL", "empty": "", "big": .int64(.max), "small": .int64(.min),
            "pi": .double(3.25), "yes": true, "nothing": .null,
            "nested": ["a": [1, "two", ["deep": false]], "b": [:]],
            "list": [],
        ]
        #expect(BSONHandle(document).document() == document)
    }

    @Test func fieldOrderIsKept() {
        let document: BSONDocument = ["z": 1, "a": 2, "m": 3]
        #expect(BSONHandle(document).document().fields.map(\.key) == ["z", "a", "m"])
    }

    @Test func aMessageWithEveryFieldReadsBackEqual() throws {
        let message = Message(chatId: "g", seq: 7, updatedSeq: 9, sender: "bot-1", senderKind: .bot, kind: "workout",
                              text: "done", clientMsgId: "c-1", replyTo: 3,
                              attachments: [Attachment(url: "https://x/a.png", mime: "image/png", name: "a.png",
                                                       size: 12, meta: .object(["$w.x": .number(640)]))],
                              data: .object(["workout_id": .string("w-9"), "a.b": .array([.number(1.5), .bool(true), .null])]),
                              system: SystemEvent(action: .roleChanged, userId: "bob", by: "ann", role: .admin),
                              createdAt: 1_700_000_000_000, editedAt: 1_700_000_000_500, deleted: false, reactions: [:])
        let stored = try MessageDocuments.stored(BSONHandle(try MessageDocuments.document(message)).document())
        #expect(stored.message == message)
        #expect(stored.reactors.isEmpty)
    }

    @Test func reactionCountsComeFromWhoReacted() throws {
        let message = Message(chatId: "g", seq: 2, updatedSeq: 2, sender: "ann", senderKind: .user, kind: "text",
                              text: "run?", clientMsgId: nil, replyTo: nil, attachments: [], data: nil, system: nil,
                              createdAt: 1, editedAt: nil, deleted: false, reactions: [:])
        var doc = try MessageDocuments.document(message)
        doc["rx"] = MessageDocuments.reactors([.init(user: "bob", emoji: "👍"), .init(user: "cy", emoji: "👍"),
                                               .init(user: "bob", emoji: "🔥")])
        let stored = try MessageDocuments.stored(BSONHandle(doc).document())
        #expect(stored.message.reactions == ["👍": 2, "🔥": 1])
        #expect(stored.emoji(of: "bob") == ["👍", "🔥"].sorted())
    }

    @Test func aPendingChangeReadsBackEqual() throws {
        let message = Message.system(SystemEvent(action: .joined, userId: "bob", role: .member), chat: "g", seq: 4,
                                     actor: "bob", now: 5)
        let change = PendingChange(seq: 4, writes: [
            .join("g", "bob", ["role": "member", "read": 0, "joined": 5]), .uninvite("g", "bob"), try .insert(message),
            .update("g", seq: 2, set: ["del": true], unset: ["text", "data"]),
        ])
        let stored = BSONHandle(["pending": change.bson]).document()["pending"]
        #expect(try PendingChange(try #require(stored)) == change)
    }

    @Test func duplicateKeysAreConflictsAndEverythingElseIsTemporary() {
        #expect(MongoFailure(domain: 27, code: 11000, message: "E11000").storeError.isConflict)
        let selection = MongoFailure(domain: 13, code: 13053, message: "No suitable servers found").storeError
        #expect(selection.isTemporary)
        #expect(MongoFailure(domain: 2, code: 4, message: "socket error").storeError.isTemporary)
    }
}
