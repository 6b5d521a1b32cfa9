import SocialCore

/// `changes`, `history`, read markers, unread counts and chat lists.
extension StoreContract {
    static let readingChecks: [Check] = [
        Check("changes returns each changed message once, latest state, by updatedSeq") { store in
            try await Fixture.group(store, "g", members: ["ann", "bob"])                    // 1 created, 2 and 3 joined
            for text in ["a", "b", "c"] { _ = try await store.append(Fixture.text("g", from: "ann", text)) }   // 4 5 6
            _ = try await store.edit("g", seq: 4, by: "ann", text: "a1", data: nil, now: Fixture.now)  // 7
            _ = try await store.react("g", seq: 5, user: "bob", emoji: "👍", add: true)               // 8
            _ = try await store.edit("g", seq: 4, by: "ann", text: "a2", data: nil, now: Fixture.now)  // 9

            let all = try await store.changes("g", after: 0, limit: 100)
            try Expect.equal(all.map(\.seq), [1, 2, 3, 6, 5, 4])
            try Expect.equal(all.map(\.updatedSeq), [1, 2, 3, 6, 8, 9])
            try Expect.equal(all.last?.text, "a2", "the latest state")
            try Expect.equal(all[4].reactions, ["👍": 1])
            for message in all {
                try Expect.equal(try await store.message("g", seq: message.seq), message, "change \(message.seq)")
            }
            try Expect.equal(try await store.changes("g", after: 6, limit: 100).map(\.seq), [5, 4])
            try Expect.equal(try await store.changes("g", after: 7, limit: 100).map(\.seq), [5, 4])
            try Expect.equal(try await store.changes("g", after: 0, limit: 2).map(\.seq), [1, 2], "bounded by limit")
            try Expect.equal(try await store.changes("g", after: 8, limit: 1).map(\.seq), [4])
            try Expect.equal(try await store.changes("g", after: 9, limit: 100), [])
            try Expect.equal(try await store.changes("g", after: 0, limit: 0), [])
        },
        Check("history pages before, after and latest, ascending, bounded") { store in
            try await Fixture.group(store, "g", members: ["ann"])                           // 1 created, 2 joined
            for i in 3...22 { _ = try await store.append(Fixture.text("g", from: "ann", "m\(i)")) }
            _ = try await store.edit("g", seq: 5, by: "ann", text: "edited", data: nil, now: Fixture.now)   // seq 23, no message
            func seqs(before: Seq? = nil, after: Seq? = nil, _ limit: Int) async throws -> [Seq] {
                try await store.history("g", before: before, after: after, limit: limit).map(\.seq)
            }
            try Expect.equal(try await seqs(5), Array(18...22), "latest")
            try Expect.equal(try await seqs(before: 18, 5), Array(13...17), "before")
            try Expect.equal(try await seqs(before: 3, 5), [1, 2], "before, near the start")
            try Expect.equal(try await seqs(before: 1, 5), [], "before the first")
            try Expect.equal(try await seqs(after: 19, 5), [20, 21, 22], "after, near the end")
            try Expect.equal(try await seqs(after: 0, 3), [1, 2, 3], "after 0")
            try Expect.equal(try await seqs(after: 22, 5), [], "after the last")
            try Expect.equal(try await seqs(before: 10, after: 5, 3), [6, 7, 8], "between, first after `after`")
            try Expect.equal(try await seqs(before: 10, after: 5, 30), [6, 7, 8, 9], "between, bounded by before")
            try Expect.equal(try await seqs(1000), Array(1...22), "a limit past the size")
            try Expect.equal(try await seqs(0), [], "limit 0")
            let page = try await store.history("g", before: 6, after: nil, limit: 1)
            try Expect.equal(page.first?.text, "edited", "history shows the latest state")
        },
        Check("unread counts messages from others, not deleted, not system") { store in
            try await Fixture.group(store, "g", owner: "ann", members: ["bob"])            // 1 created, 2 joined
            for text in ["a", "b", "c"] { _ = try await store.append(Fixture.text("g", from: "ann", text)) }   // 3 4 5
            _ = try await store.append(Fixture.text("g", from: "bob", "mine"))                               // 6
            _ = try await store.delete("g", seq: 4, by: "ann", now: Fixture.now)                             // 7
            _ = try await store.apply(.rename(title: "T", by: "ann"), to: "g", now: Fixture.now)              // 8
            try Expect.equal(try await store.member("g", "bob")?.readSeq, 2, "read up to the join")
            try Expect.equal(try await store.unread("g", user: "bob"), 2)
            try Expect.equal(try await store.unread("g", user: "ann"), 1)

            try Expect.equal(try await store.markRead("g", user: "bob", seq: 3), 3)
            try Expect.equal(try await store.unread("g", user: "bob"), 1)
            try Expect.equal(try await store.member("g", "bob")?.readSeq, 3)
            try Expect.equal(try await store.markRead("g", user: "bob", seq: 2), 3, "never lowered")
            try Expect.equal(try await store.member("g", "bob")?.readSeq, 3)
            try Expect.equal(try await store.markRead("g", user: "bob", seq: 1_000), 8, "clamped to the chat's seq")
            try Expect.equal(try await store.member("g", "bob")?.readSeq, 8)
            try Expect.equal(try await store.unread("g", user: "bob"), 0)
            try Expect.equal(try await store.chat("g")?.seq, 8, "markRead takes no seq")
            _ = try await store.append(Fixture.text("g", from: "ann", "d"))
            try Expect.equal(try await store.unread("g", user: "bob"), 1)
        },
        Check("memberships lists a user's chats by id with unread counts") { store in
            try await Fixture.group(store, "c", owner: "ann", members: ["bob"])
            try await Fixture.group(store, "a", owner: "bob")
            try await Fixture.group(store, "b", owner: "cy", members: ["bob"])
            try await Fixture.group(store, "d", owner: "cy")
            let direct = try await store.openDirect(newId: "0-direct", between: "bob", and: "ann", now: Fixture.now).chat
            for _ in 0..<3 { _ = try await store.append(Fixture.text("c", from: "ann", "x")) }
            _ = try await store.append(Fixture.text("b", from: "cy", "y"))
            _ = try await store.append(Fixture.text("a", from: "bob", "own"))
            _ = try await store.append(Fixture.text("0-direct", from: "ann", "hey"))
            _ = try await store.markRead("c", user: "bob", seq: 3)

            let list = try await store.memberships(of: "bob")
            try Expect.equal(list.map(\.chat.id), ["0-direct", "a", "b", "c"])
            try Expect.equal(list.map(\.unread), [1, 0, 1, 2])
            try Expect.equal(list.map(\.member.userId), ["bob", "bob", "bob", "bob"])
            try Expect.equal(list.map(\.member.role), [.member, .owner, .member, .member])
            try Expect.equal(list[0].chat, try await store.chat(direct.id))
            try Expect.equal(list[3].member.readSeq, 3)
            for membership in list {
                try Expect.equal(membership.chat, try await store.chat(membership.chat.id), "chat \(membership.chat.id)")
                try Expect.equal(membership.unread, try await store.unread(membership.chat.id, user: "bob"))
            }
            _ = try await store.apply(.leave(user: "bob"), to: "b", now: Fixture.now)
            try Expect.equal(try await store.memberships(of: "bob").map(\.chat.id), ["0-direct", "a", "c"])
            try Expect.equal(try await store.memberships(of: "cy").map(\.chat.id), ["b", "d"])
        },
    ]
}
