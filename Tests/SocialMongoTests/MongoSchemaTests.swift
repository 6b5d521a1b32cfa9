import SocialCore
@testable import SocialMongo
import SocialTesting
import Testing

/// The indexes start-up creates, and that the server enforces the unique ones.
@Suite(.mongoServer, mongoAvailable)
struct MongoSchemaTests {
    @Test func startUpCreatesTheIndexesAndAgainIsHarmless() async throws {
        try await MongoFixture.withStores(2) { stores in       // the second start-up finds them made
            let names = try await stores[1].workers.run { db in
                try [MongoSchema.chats, MongoSchema.members, MongoSchema.invitations, MongoSchema.messages]
                    .map { collection -> [String] in
                        let reply = try db.command(["listIndexes": .string(collection)])
                        let batch = reply["cursor"]?.document?["firstBatch"]?.array ?? []
                        return batch.compactMap { $0.document?["name"]?.string }.filter { $0 != "_id_" }.sorted()
                    }
            }
            #expect(names == [["direct_pair"], ["chat_user", "user_chat"], ["chat_user", "user_chat"],
                              ["chat_client", "chat_seq", "chat_updated"]])
        }
    }

    @Test func theUniqueIndexesRefuseASecondMessageAtOneSeqOrClientId() async throws {
        try await MongoFixture.withStores(1) { stores in
            let store = stores[0]
            _ = try await store.createGroup(id: "g", title: "G", isOpen: true, owner: "ann", now: 1)
            let sent = try await store.append(NewMessage(chatId: "g", sender: "ann", text: "x", clientMsgId: "c", createdAt: 2))
            var sameSeq = sent.message
            sameSeq.clientMsgId = "other"
            var sameClientId = sent.message
            sameClientId.seq = 99
            for copy in [sameSeq, sameClientId] {
                let failure = try await store.workers.run { db -> MongoFailure? in
                    do { try db.messages.insert(try MessageDocuments.document(copy)) } catch let failure as MongoFailure {
                        return failure
                    }
                    return nil
                }
                #expect(failure?.isDuplicateKey == true, "\(String(describing: failure))")
            }
            _ = try await store.append(NewMessage(chatId: "g", sender: "ann", text: "no id", createdAt: 3))
            _ = try await store.append(NewMessage(chatId: "g", sender: "ann", text: "no id", createdAt: 3))
            #expect(try await store.chat("g")?.seq == 4, "messages without a client id are not in the partial index")
        }
    }
}
