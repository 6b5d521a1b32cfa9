import Foundation
import Testing
import SocialTesting

/// A phone that was offline catches up with `sync` and ends with exactly the
/// server's state: no gaps, no duplicates.
@Suite struct SyncAfterReconnectTests {
    init() async throws { try await Fixture.prepare() }

    /// What a client keeps per chat: its position and its copy of each message by seq.
    struct LocalChat {
        var position = 0
        var readSeq = 0
        var messages: [Int: [String: Any]] = [:]
    }

    @Test func aClientThatMissed500ChangesAcross3ChatsSyncsToTheServerState() throws {
        let gateway = try Fixture.gateway(["--typing-interval-ms", "0"])
        let alice = try Fixture.client(gateway, "alice")
        let dave = try Fixture.client(gateway, "dave")
        let bobPhone = try Fixture.client(gateway, "bob", device: "phone")

        // Three chats bob knows: two groups and a direct chat.
        var chats: [String] = []
        for title in ["Track Tuesdays", "Trail crew"] {
            let id = try #require((alice.ok("group.create", ["title": title, "open": true])?["group"] as? [String: Any])?["group_id"] as? String)
            #expect(bobPhone.ok("group.join", ["group_id": id]) != nil)
            #expect(dave.ok("group.join", ["group_id": id]) != nil)
            chats.append(id)
        }
        chats.append(try #require((alice.ok("chat.open_direct", ["user_id": "bob"])?["chat"] as? [String: Any])?["chat_id"] as? String))

        // Bob's phone is up to date, then goes offline.
        var local: [String: LocalChat] = [:]
        let first = try #require(bobPhone.ok("sync", ["chats": [] as [Any]]))
        for delta in first["chats"] as? [[String: Any]] ?? [] {
            let chat = delta["chat"] as! [String: Any]
            local[chat["chat_id"] as! String] = LocalChat(position: delta["position"] as! Int, readSeq: chat["read_seq"] as! Int)
        }
        #expect(Set(local.keys) == Set(chats))
        bobPhone.close()
        #expect(bobPhone.waitClosed() != nil)

        // 500 changes while bob is away: messages, edits, deletes, reactions, and reads on bob's laptop.
        let bobLaptop = try Fixture.client(gateway, "bob", device: "laptop")
        var rng = SystemRandomNumberGenerator()
        var sent: [String: [Int]] = [:]
        var changes = 0
        while changes < 500 {
            let chat = chats[changes % chats.count]
            let writer = chat == chats[2] ? alice : (changes % 2 == 0 ? alice : dave)
            let roll = Int.random(in: 0..<10, using: &rng)
            if roll < 6 || (sent[chat]?.isEmpty ?? true) {
                let reply = writer.ok("chat.send", ["chat_id": chat, "text": "split \(changes)", "client_msg_id": "c\(changes)"])
                sent[chat, default: []].append(try #require((reply?["message"] as? [String: Any])?["seq"] as? Int))
            } else if roll < 7, let seq = sent[chat]?.randomElement(using: &rng) {
                _ = writer.command("chat.edit", ["chat_id": chat, "seq": seq, "text": "edited \(changes)"])  // may be someone else's: forbidden is fine
            } else if roll < 8, let seq = sent[chat]?.randomElement(using: &rng) {
                _ = writer.command("chat.delete", ["chat_id": chat, "seq": seq])
            } else if roll < 9, let seq = sent[chat]?.randomElement(using: &rng) {
                _ = writer.command("chat.react", ["chat_id": chat, "seq": seq, "emoji": ["👏", "🔥", "💪"].randomElement(using: &rng)!])
            } else if let seq = sent[chat]?.last {
                _ = bobLaptop.command("chat.read", ["chat_id": chat, "seq": seq])
            }
            changes += 1
        }
        // Bob also lost a chat and gained one while away.
        let newDirect = try #require((dave.ok("chat.open_direct", ["user_id": "bob"])?["chat"] as? [String: Any])?["chat_id"] as? String)

        // The phone comes back and follows `sync` until nothing is left.
        let phone = try Fixture.client(gateway, "bob", device: "phone")
        var calls = 0
        var seenNew: Set<String> = []
        while true {
            calls += 1
            let positions = local.map { ["chat_id": $0.key, "seq": $0.value.position, "read_seq": $0.value.readSeq] as [String: Any] }
            let result = try #require(phone.ok("sync", ["chats": positions, "limit": 100]))
            for delta in result["chats"] as? [[String: Any]] ?? [] {
                let chat = delta["chat"] as! [String: Any]
                let id = chat["chat_id"] as! String
                if delta["new"] as? Bool == true { seenNew.insert(id) }
                var entry = local[id] ?? LocalChat()
                for change in delta["changes"] as? [[String: Any]] ?? [] {
                    let updated = change["updated_seq"] as! Int
                    #expect(updated > entry.position, "no change twice, no going back")
                    entry.messages[change["seq"] as! Int] = change
                }
                entry.position = delta["position"] as! Int
                entry.readSeq = chat["read_seq"] as! Int
                local[id] = entry
            }
            if result["more"] as? Bool != true { break }
            #expect(calls < 50)
        }
        #expect(seenNew == [newDirect])

        var changedMessages = 0
        // Compare with the server: every message of each chat, and positions and read markers.
        let summaries = try #require(phone.ok("chats.list")?["chats"] as? [[String: Any]])
        for chat in chats {
            let summary = try #require(summaries.first { $0["chat_id"] as? String == chat })
            #expect(local[chat]?.position == summary["seq"] as? Int, "position is the chat's seq: no gap")
            #expect(local[chat]?.readSeq == summary["read_seq"] as? Int, "read marker from the other device")
            var server: [Int: [String: Any]] = [:]
            var after = 0
            while true {
                let page = try #require(phone.ok("chat.history", ["chat_id": chat, "after": after, "limit": 100]))
                let messages = page["messages"] as? [[String: Any]] ?? []
                for message in messages { server[message["seq"] as! Int] = message }
                guard page["more"] as? Bool == true, let last = messages.last?["seq"] as? Int else { break }
                after = last
            }
            // The client's copy of every message it was sent equals the server's.
            for (seq, mine) in local[chat]?.messages ?? [:] {
                let theirs = try #require(server[seq])
                #expect(canonical(mine) == canonical(theirs), "chat \(chat) seq \(seq)")
            }
            // And it was sent every message that changed while it was away.
            let missed = server.filter { $0.value["updated_seq"] as! Int > 0 && ($0.value["kind"] as? String) != "system" }
            let expected = missed.filter { ($0.value["updated_seq"] as! Int) > firstPosition(chat, first) }
            #expect(Set(expected.keys).isSubset(of: Set(local[chat]?.messages.keys ?? [:].keys)), "chat \(chat): no gaps")
            changedMessages += expected.count
        }
        #expect(changedMessages >= 250, "most of the 500 changes made messages to sync")
        #expect(calls >= (changedMessages + 99) / 100, "100 changes per call at most")
    }

    private func canonical(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }

    private func firstPosition(_ chat: String, _ sync: [String: Any]) -> Int {
        let deltas = sync["chats"] as? [[String: Any]] ?? []
        return deltas.first { ($0["chat"] as? [String: Any])?["chat_id"] as? String == chat }?["position"] as? Int ?? 0
    }
}
