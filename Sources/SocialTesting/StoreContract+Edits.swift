import SocialCore
import SocialProtocol

/// Edits, deletes and reactions: each takes the next seq and sets `updatedSeq`.
extension StoreContract {
    static let editChecks: [Check] = [
        Check("edit replaces text, keeps or replaces data, and takes the next seq") { store in
            try await Fixture.group(store, "g", members: ["ann"])                           // 1 created, 2 joined
            let data = JSONValue.object(["workout_id": .string("w-1")])
            let sent = try await store.append(NewMessage(chatId: "g", sender: "ann", kind: "workout", text: "old",
                                                         data: data, createdAt: Fixture.now)).message
            let edited = try await store.edit("g", seq: sent.seq, by: "ann", text: "new", data: nil, now: Fixture.now + 10)
            var expected = sent
            expected.text = "new"
            expected.editedAt = Fixture.now + 10
            expected.updatedSeq = 4
            try Expect.equal(edited, expected, "edit without data")
            try Expect.equal(try await store.message("g", seq: 3), expected)

            let newData = JSONValue.object(["workout_id": .string("w-2")])
            let again = try await store.edit("g", seq: 3, by: "ann", text: "newer", data: newData, now: Fixture.now + 20)
            expected.text = "newer"
            expected.data = newData
            expected.editedAt = Fixture.now + 20
            expected.updatedSeq = 5
            try Expect.equal(again, expected, "edit with data")
            try Expect.equal(try await store.chat("g")?.seq, 5)
        },
        Check("delete tombstones the message; edit, react and delete on it conflict") { store in
            try await Fixture.group(store, "g", members: ["ann", "bob"])                    // 1 created, 2 and 3 joined
            let sent = try await store.append(NewMessage(chatId: "g", sender: "ann", text: "secret", clientMsgId: "c",
                                                         attachments: [Attachment(url: "https://x/f")],
                                                         data: .object(["k": .string("v")]), createdAt: Fixture.now)).message
            _ = try await store.react("g", seq: sent.seq, user: "bob", emoji: "🔥", add: true)
            let deleted = try await store.delete("g", seq: sent.seq, by: "ann", now: Fixture.now + 7)
            try Expect.equal(deleted.deleted, true)
            try Expect.equal(deleted.text, nil)
            try Expect.equal(deleted.attachments, [])
            try Expect.equal(deleted.data, nil)
            try Expect.equal(deleted.updatedSeq, 6)
            try Expect.equal(deleted.seq, sent.seq)
            try Expect.equal(deleted.sender, "ann")
            try Expect.equal(deleted.clientMsgId, "c")
            try Expect.equal(deleted.reactions, ["🔥": 1], "reaction counts are kept")
            try Expect.equal(try await store.message("g", seq: 4), deleted)

            try await Expect.error(.conflict, "delete again") { try await store.delete("g", seq: 4, by: "ann", now: Fixture.now) }
            try await Expect.error(.conflict, "edit deleted") {
                try await store.edit("g", seq: 4, by: "ann", text: "back", data: nil, now: Fixture.now)
            }
            try await Expect.error(.conflict, "react to deleted") {
                try await store.react("g", seq: 4, user: "bob", emoji: "👍", add: true)
            }
            try Expect.equal(try await store.chat("g")?.seq, 6, "conflicts take no seq")
            try Expect.equal(try await store.message("g", seq: 4), deleted, "conflicts change nothing")
        },
        Check("concurrent deletes of one message: one succeeds, the others conflict") { store in
            try await Fixture.group(store, "g", members: ["ann", "bob"])                    // 1 created, 2 and 3 joined
            _ = try await store.append(Fixture.text("g", from: "ann", "x"))                 // 4
            let outcomes = await withTaskGroup(of: Result<Message, any Error>.self) { group in
                for i in 0..<12 {
                    group.addTask {
                        do {
                            if i % 2 == 0 { return .success(try await store.delete("g", seq: 4, by: "ann", now: Fixture.now)) }
                            return .success(try await store.append(Fixture.text("g", from: "bob", "\(i)")).message)
                        } catch { return .failure(error) }
                    }
                }
                return await group.reduce(into: [Result<Message, any Error>]()) { $0.append($1) }
            }
            let deletes = outcomes.compactMap { try? $0.get() }.filter { $0.seq == 4 }
            try Expect.equal(deletes.count, 1, "successful deletes")
            let conflicts = outcomes.filter { if case .failure(let e) = $0 { return Expect.ErrorKind.conflict.matches(e) } else { return false } }
            try Expect.equal(conflicts.count, 5, "conflicting deletes")
            try Expect.equal(try await store.chat("g")?.seq, 4 + 1 + 6, "one delete and six appends took seqs")
            let seqs = try await store.history("g", before: nil, after: nil, limit: 100).map(\.seq)
            try Expect.equal(seqs, [1, 2, 3, 4] + Array(5...11).filter { $0 != deletes[0].updatedSeq })
        },
        Check("react adds and removes reactions, and a no-op takes no seq") { store in
            try await Fixture.group(store, "g", members: ["ann", "bob", "cy", "dee"])       // 1 created, 2 to 5 joined
            _ = try await store.append(Fixture.text("g", from: "ann", "run?"))              // 6
            let first = try Expect.some(try await store.react("g", seq: 6, user: "bob", emoji: "👍", add: true), "first")
            try Expect.equal(first.reactions, ["👍": 1])
            try Expect.equal(first.updatedSeq, 7)
            let second = try Expect.some(try await store.react("g", seq: 6, user: "cy", emoji: "👍", add: true), "second")
            try Expect.equal(second.reactions, ["👍": 2])
            try Expect.equal(second.updatedSeq, 8)
            let third = try Expect.some(try await store.react("g", seq: 6, user: "bob", emoji: "🏃", add: true), "third")
            try Expect.equal(third.reactions, ["👍": 2, "🏃": 1])
            try Expect.equal(third.updatedSeq, 9)

            try Expect.equal(try await store.react("g", seq: 6, user: "bob", emoji: "👍", add: true), nil, "re-add")
            try Expect.equal(try await store.react("g", seq: 6, user: "dee", emoji: "👍", add: false), nil, "remove missing")
            try Expect.equal(try await store.chat("g")?.seq, 9, "no-ops take no seq")
            try Expect.equal(try await store.message("g", seq: 6), third)

            try Expect.equal(try await store.reactions(of: "bob", in: "g", seqs: [1, 6, 77]), [6: ["👍", "🏃"].sorted()])
            try Expect.equal(try await store.reactions(of: "dee", in: "g", seqs: [6]), [:])

            let removed = try Expect.some(try await store.react("g", seq: 6, user: "bob", emoji: "👍", add: false), "remove")
            try Expect.equal(removed.reactions, ["👍": 1, "🏃": 1])
            try Expect.equal(removed.updatedSeq, 10)
            _ = try await store.react("g", seq: 6, user: "cy", emoji: "👍", add: false)
            let last = try Expect.some(try await store.react("g", seq: 6, user: "bob", emoji: "🏃", add: false), "last")
            try Expect.equal(last.reactions, [:], "empty emoji are absent")
            try Expect.equal(last.updatedSeq, 12)
            try Expect.equal(try await store.reactions(of: "bob", in: "g", seqs: [6]), [:])
        },
    ]
}
