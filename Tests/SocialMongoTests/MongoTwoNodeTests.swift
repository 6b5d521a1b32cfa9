import SocialCore
import SocialMongo
import SocialTesting
import Testing

/// Two `MongoChatStore` instances on one database stand for two gateway
/// nodes writing into the same chats at once.
@Suite(.mongoServer, mongoAvailable)
struct MongoTwoNodeTests {
    private func withTwoNodes(_ body: (MongoChatStore, MongoChatStore) async throws -> Void) async throws {
        try await MongoFixture.withStores(2) { stores in try await body(stores[0], stores[1]) }
    }

    @Test func concurrentAppendsThroughTwoNodesTakeSeqsOneToN() async throws {
        try await withTwoNodes { a, b in
            _ = try await a.createGroup(id: "g", title: "G", isOpen: true, owner: "ann", now: 1)
            let tasksPerNode = 4, perTask = 25
            let seqs = try await withThrowingTaskGroup(of: [Seq].self) { group in
                for (n, node) in [a, b].enumerated() {
                    for t in 0..<tasksPerNode {
                        group.addTask {
                            var seqs: [Seq] = []
                            for i in 0..<perTask {
                                let sender = "n\(n)t\(t)"
                                let new = NewMessage(chatId: "g", sender: sender, text: "\(sender)-\(i)",
                                                     clientMsgId: "c\(i)", createdAt: 2)
                                seqs.append(try await node.append(new).message.seq)
                            }
                            return seqs
                        }
                    }
                }
                return try await group.reduce(into: [Seq]()) { $0 += $1 }
            }
            let total = Seq(2 * tasksPerNode * perTask)
            #expect(seqs.sorted() == Array(2...(total + 1)))
            let history = try await b.history("g", before: nil, after: nil, limit: 1_000)
            #expect(history.map(\.seq) == Array(1...(total + 1)))
            for message in history.dropFirst() {
                #expect(message.text == "\(message.sender)-\(message.clientMsgId?.dropFirst() ?? "")")
            }
            #expect(try await a.chat("g")?.seq == total + 1)
        }
    }

    @Test func aClientMessageIdRetriedThroughBothNodesIsStoredOnce() async throws {
        try await withTwoNodes { a, b in
            _ = try await a.createGroup(id: "g", title: "G", isOpen: true, owner: "ann", now: 1)
            for round in 0..<5 {
                let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
                    for i in 0..<8 {
                        let node = i % 2 == 0 ? a : b
                        group.addTask {
                            try await node.append(NewMessage(chatId: "g", sender: "ann", text: "try \(i)",
                                                             clientMsgId: "same-\(round)", createdAt: 2))
                        }
                    }
                    return try await group.reduce(into: [AppendResult]()) { $0.append($1) }
                }
                let originals = results.filter { !$0.duplicate }
                #expect(originals.count == 1, "round \(round): one caller stored it")
                let original = try #require(originals.first).message
                #expect(results.allSatisfy { $0.message == original }, "round \(round): every caller gets the original")
                #expect(original.seq == Seq(round + 2))
            }
            #expect(try await b.chat("g")?.seq == 6, "duplicates took no seq")
            let history = try await a.history("g", before: nil, after: nil, limit: 100)
            #expect(history.map(\.seq) == Array(1...6))
        }
    }

    @Test func mixedChangesFromTwoNodesLeaveNoGap() async throws {
        try await withTwoNodes { a, b in
            _ = try await a.createGroup(id: "g", title: "G", isOpen: true, owner: "ann", now: 1)
            for i in 0..<4 { _ = try await b.append(NewMessage(chatId: "g", sender: "ann", text: "m\(i)", createdAt: 2)) }
            // Seqs 2...5 are messages. Each task below makes one change; some conflict or change nothing.
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<24 {
                    let node = i % 2 == 0 ? a : b
                    group.addTask {
                        do {
                            let target = Seq(2 + i % 4)
                            switch i % 4 {
                            case 0: _ = try await node.edit("g", seq: target, text: "e\(i)", data: nil, now: 3); return true
                            case 1: return try await node.react("g", seq: target, user: "u\(i % 3)", emoji: "👍", add: true) != nil
                            case 2: _ = try await node.delete("g", seq: target, now: 3); return true
                            default:
                                _ = try await node.append(NewMessage(chatId: "g", sender: "bob", text: "x\(i)", createdAt: 3))
                                return true
                            }
                        } catch let error as StoreError where error.isConflict {
                            return false
                        } catch {
                            Issue.record("unexpected \(error)")
                            return false
                        }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            let changed = Seq(outcomes.filter { $0 }.count)
            #expect(try await a.chat("g")?.seq == 5 + changed, "every change took one seq, conflicts and no-ops none")
            let changes = try await b.changes("g", after: 0, limit: 1_000)
            let updated = changes.map(\.updatedSeq)
            #expect(updated == updated.sorted() && Set(updated).count == updated.count, "each message once, by updatedSeq")
            #expect(updated.last == 5 + changed, "the latest change is visible")
            let deleted = try #require(try await a.message("g", seq: 4))
            #expect(deleted.deleted && deleted.text == nil, "message 4 was deleted once")
        }
    }
}
