import SocialCore
@testable import SocialMongo
import SocialTesting
import Testing

/// The crash window of `ChatLog`: a node that dies after claiming a seq
/// leaves its change in the chat document, and the next call completes it.
@Suite(.mongoServer, mongoAvailable)
struct ChatLogRecoveryTests {
    @Test func aChangeClaimedByANodeThatDiedIsCompletedByTheOtherNode() async throws {
        try await MongoFixture.withStores(2) { stores in
            let (dying, survivor) = (stores[0], stores[1])
            _ = try await dying.createGroup(id: "g", title: "G", isOpen: true, owner: "ann", now: 1)

            // The dying node claims seq 2 for a send and stops before applying it.
            let lost = Message(chatId: "g", seq: 2, updatedSeq: 2, sender: "ann", senderKind: .user, kind: "text",
                               text: "lost?", clientMsgId: "c-1", replyTo: nil, attachments: [], data: nil,
                               system: nil, createdAt: 2, editedAt: nil, deleted: false, reactions: [:])
            let claimed = try await dying.run { log in
                try log.claim(try log.require("g"), PendingChange(seq: 2, writes: [try .insert(lost)]))
            }
            #expect(claimed)
            await dying.close()
            #expect(try await survivor.message("g", seq: 2) == nil, "not applied yet")

            #expect(try await survivor.history("g", before: nil, after: nil, limit: 10).map(\.seq) == [1, 2],
                    "reading the chat completed the claimed change")
            let retry = try await survivor.append(NewMessage(chatId: "g", sender: "ann", text: "lost?",
                                                             clientMsgId: "c-1", createdAt: 3))
            #expect(retry == AppendResult(message: lost, duplicate: true), "the client's retry finds the original")
            let next = try await survivor.append(NewMessage(chatId: "g", sender: "ann", text: "next", createdAt: 3))
            #expect(next.message.seq == 3, "no seq was lost")
        }
    }

    @Test func aWriteAppliedLateNeverUndoesALaterChange() async throws {
        try await MongoFixture.withStores(1) { stores in
            let store = stores[0]
            _ = try await store.createGroup(id: "g", title: "G", isOpen: true, owner: "ann", now: 1)
            _ = try await store.apply(.join(user: "bob", role: .member), to: "g", now: 2)              // seq 2
            _ = try await store.append(NewMessage(chatId: "g", sender: "ann", text: "v1", createdAt: 3))  // seq 3
            _ = try await store.edit("g", seq: 3, by: "ann", text: "v2", data: nil, now: 4)             // seq 4
            _ = try await store.apply(.leave(user: "bob"), to: "g", now: 5)                             // seq 5

            // A slow node (or a helper) applies the writes of seqs 2 and 3 again, after seq 5.
            let bob = Member(chatId: "g", userId: "bob", role: .member, readSeq: 0, joinedAt: 2)
            try await store.run { log in
                try log.complete("g", PendingChange(seq: 2, writes: [.join("g", "bob", ChatDocuments.memberFields(bob))]))
                try log.complete("g", PendingChange(seq: 3, writes: [.update("g", seq: 3, set: ["text": "stale"])]))
            }
            #expect(try await store.member("g", "bob") == nil, "the leave at seq 5 stands")
            let message = try #require(try await store.message("g", seq: 3))
            #expect(message.text == "v2" && message.updatedSeq == 4, "the edit at seq 4 stands")
            #expect(try await store.chat("g")?.seq == 5)
        }
    }
}
