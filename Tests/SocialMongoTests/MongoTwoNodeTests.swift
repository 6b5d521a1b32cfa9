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
            let senders = (0..<2).flatMap { n in (0..<tasksPerNode).map { t in "n\(n)t\(t)" } }
            for sender in senders { _ = try await a.apply(.join(user: sender, role: .member), to: "g", now: 1) }
            let joined = Seq(1 + senders.count)             // the created message and the joins
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
            #expect(seqs.sorted() == Array((joined + 1)...(joined + total)))
            let history = try await b.history("g", before: nil, after: nil, limit: 1_000)
            #expect(history.map(\.seq) == Array(1...(joined + total)))
            for message in history.dropFirst(Int(joined)) {
                #expect(message.text == "\(message.sender)-\(message.clientMsgId?.dropFirst() ?? "")")
            }
            #expect(try await a.chat("g")?.seq == joined + total)
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
            for user in ["bob", "u0", "u1", "u2"] { _ = try await a.apply(.join(user: user, role: .member), to: "g", now: 1) }
            for i in 0..<4 { _ = try await b.append(NewMessage(chatId: "g", sender: "ann", text: "m\(i)", createdAt: 2)) }
            // Seqs 2...5 are joins, 6...9 messages. Each task below makes one change; some conflict or change nothing.
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<24 {
                    let node = i % 2 == 0 ? a : b
                    group.addTask {
                        do {
                            let target = Seq(6 + i % 4)
                            switch i % 4 {
                            case 0: _ = try await node.edit("g", seq: target, by: "ann", text: "e\(i)", data: nil, now: 3); return true
                            case 1: return try await node.react("g", seq: target, user: "u\(i % 3)", emoji: "👍", add: true) != nil
                            case 2: _ = try await node.delete("g", seq: target, by: "ann", now: 3); return true
                            default:
                                _ = try await node.append(NewMessage(chatId: "g", sender: "bob", text: "x\(i)", createdAt: 3))
                                return true
                            }
                        } catch where LogRules.errorCode(of: error) == .conflict {
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
            #expect(try await a.chat("g")?.seq == 9 + changed, "every change took one seq, conflicts and no-ops none")
            let changes = try await b.changes("g", after: 0, limit: 1_000)
            let updated = changes.map(\.updatedSeq)
            #expect(updated == updated.sorted() && Set(updated).count == updated.count, "each message once, by updatedSeq")
            #expect(updated.last == 9 + changed, "the latest change is visible")
            let deleted = try #require(try await a.message("g", seq: 8))
            #expect(deleted.deleted && deleted.text == nil, "message 8 was deleted once")
        }
    }

    /// A kick made on one node while the kicked member keeps sending through
    /// the other: each send is checked at the seq it claims (a send planned
    /// before the kick loses its claim to it and is checked again), so every
    /// stored send comes before the kick and every later one is refused.
    @Test func sendsRacingAKickOnTheOtherNodeComeBeforeItOrAreRefused() async throws {
        try await withTwoNodes { a, b in
            _ = try await a.createGroup(id: "g", title: "G", isOpen: true, owner: "ann", now: 1)
            _ = try await a.apply(.join(user: "bob", role: .member), to: "g", now: 1)                   // seq 2
            async let sends: (stored: [Seq], refused: Int) = {
                var stored: [Seq] = [], refused = 0
                for i in 0..<150 {
                    do {
                        stored.append(try await a.append(NewMessage(chatId: "g", sender: "bob", text: "m\(i)", createdAt: 2))
                            .message.seq)
                    } catch where LogRules.errorCode(of: error) == .forbidden {
                        refused += 1
                    }
                }
                return (stored, refused)
            }()
            while try await b.chat("g")?.seq ?? 0 < 10 { try await Task.sleep(for: .milliseconds(1)) }
            let kick = try await b.apply(.kick(user: "bob", by: "ann"), to: "g", now: 3)
            let (stored, refused) = try await sends
            #expect(refused > 0, "sends after the kick were refused")
            #expect(stored.count + refused == 150)
            #expect(stored.allSatisfy { $0 < kick.seq }, "every stored send precedes the kick")
            let history = try await b.history("g", before: nil, after: nil, limit: 1_000)
            #expect(history.map(\.seq) == Array(1...kick.seq), "no gap, nothing after the kick")
            #expect(try await b.chat("g")?.seq == kick.seq)
        }
    }
}
