import SocialCore
import SocialProtocol

/// Creating groups, appending, idempotency, gap-free seqs, unknown ids.
extension StoreContract {
    static let messageChecks: [Check] = [
        Check("createGroup stores the chat, its owner and a created message at seq 1") { store in
            let (chat, created) = try await store.createGroup(id: "g1", title: "Runners", isOpen: true,
                                                              owner: "ann", now: Fixture.now)
            try Expect.equal(chat, Chat(id: "g1", kind: .group, title: "Runners", isOpen: true, owner: "ann",
                                        directUsers: [], seq: 1, createdAt: Fixture.now))
            try Expect.equal(created.seq, 1)
            try Expect.equal(created.updatedSeq, 1)
            try Expect.equal(created.senderKind, .system)
            try Expect.equal(created.system?.action, .created)
            try Expect.equal(try await store.chat("g1"), chat)
            try Expect.equal(try await store.message("g1", seq: 1), created)
            try Expect.equal(try await store.member("g1", "ann"),
                             Member(chatId: "g1", userId: "ann", role: .owner, readSeq: 0, joinedAt: Fixture.now))
            try await Expect.error(.conflict, "a second group with the same id") {
                try await store.createGroup(id: "g1", title: "Again", isOpen: false, owner: "bob", now: Fixture.now)
            }
            try Expect.equal(try await store.chat("g1"), chat, "the first group is unchanged")
        },
        Check("append stores every field and takes the next seq") { store in
            try await Fixture.group(store, "g", members: ["bot-1", "ann"])                 // 1 created, 2 and 3 joined
            let new = NewMessage(chatId: "g", sender: "bot-1", senderKind: .bot, kind: "workout", text: "5 km 🏃",
                                 clientMsgId: "c-1", replyTo: 1,
                                 attachments: [Attachment(url: "https://x/a.png", mime: "image/png", name: "a.png",
                                                          size: 1234, meta: .object(["w": .number(640)]))],
                                 data: .object(["workout_id": .string("w-9"), "laps": .array([.number(1), .bool(true)])]),
                                 createdAt: Fixture.now + 5)
            let result = try await store.append(new)
            try Expect.equal(result.duplicate, false)
            let expected = Message(chatId: "g", seq: 4, updatedSeq: 4, sender: "bot-1", senderKind: .bot,
                                   kind: "workout", text: "5 km 🏃", clientMsgId: "c-1", replyTo: 1,
                                   attachments: new.attachments, data: new.data, system: nil,
                                   createdAt: Fixture.now + 5, editedAt: nil, deleted: false, reactions: [:])
            try Expect.equal(result.message, expected)
            try Expect.equal(try await store.message("g", seq: 4), expected)
            try Expect.equal(try await store.chat("g")?.seq, 4)
            let plain = try await store.append(NewMessage(chatId: "g", sender: "ann", text: nil, createdAt: Fixture.now))
            try Expect.equal(plain.message.seq, 5)
            try Expect.equal(plain.message.text, nil)
            try Expect.equal(plain.message.attachments, [])
            try Expect.equal(plain.message.data, nil)
        },
        Check("concurrent appends into one chat get gap-free seqs") { store in
            let tasks = 8, perTask = 50
            try await Fixture.group(store, "g", members: (0..<tasks).map { "u\($0)" })
            let joined = Seq(1 + tasks)                     // the created message and the joins
            let seqsByTask = try await withThrowingTaskGroup(of: [Seq].self) { group in
                for t in 0..<tasks {
                    group.addTask {
                        var seqs: [Seq] = []
                        for i in 0..<perTask {
                            let r = try await store.append(Fixture.text("g", from: "u\(t)", "m\(t)-\(i)", clientMsgId: "\(i)"))
                            seqs.append(r.message.seq)
                        }
                        return seqs
                    }
                }
                return try await group.reduce(into: [[Seq]]()) { $0.append($1) }
            }
            for seqs in seqsByTask {
                try Expect.equal(seqs, seqs.sorted(), "one task's seqs increase")
            }
            let all = seqsByTask.flatMap { $0 }.sorted()
            try Expect.equal(all, Array((joined + 1)...(joined + Seq(tasks * perTask))), "seqs after the joins")
            let history = try await store.history("g", before: nil, after: nil, limit: 10_000)
            try Expect.equal(history.map(\.seq), Array(1...(joined + Seq(tasks * perTask))))
            try Expect.equal(history.first?.system?.action, .created)
            try Expect.equal(try await store.chat("g")?.seq, joined + Seq(tasks * perTask))
            for message in history.dropFirst(Int(joined)) {
                let t = message.sender.dropFirst()
                try Expect.that(message.text == "m\(t)-\(message.clientMsgId ?? "")", "text of \(message.seq) matches its sender")
            }
        },
        Check("the same client message id appended concurrently is stored once") { store in
            try await Fixture.group(store, "g", members: ["ann", "bob"])                   // 1 created, 2 and 3 joined
            try await Fixture.group(store, "h", members: ["ann"])
            let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for i in 0..<10 {
                    group.addTask { try await store.append(Fixture.text("g", from: "ann", "try \(i)", clientMsgId: "same")) }
                }
                return try await group.reduce(into: [AppendResult]()) { $0.append($1) }
            }
            try Expect.equal(results.filter { !$0.duplicate }.count, 1, "results not marked duplicate")
            let original = try Expect.some(results.first { !$0.duplicate }?.message, "the stored message")
            for result in results {
                try Expect.equal(result.message, original, "every caller gets the original")
            }
            try Expect.equal(original.seq, 4)
            try Expect.equal(try await store.chat("g")?.seq, 4, "a duplicate takes no seq")
            try Expect.equal(try await store.history("g", before: nil, after: nil, limit: 100).count, 4)

            let other = try await store.append(Fixture.text("g", from: "bob", "mine", clientMsgId: "same"))
            try Expect.equal(other.duplicate, false, "another sender's id is another message")
            try Expect.equal(other.message.seq, 5)
            let elsewhere = try await store.append(Fixture.text("h", from: "ann", "there", clientMsgId: "same"))
            try Expect.equal(elsewhere.duplicate, false, "the same id in another chat is another message")
            let again = try await store.append(Fixture.text("g", from: "ann", "later", clientMsgId: "same"))
            try Expect.equal(again, AppendResult(message: original, duplicate: true), "a later retry")
            let noId1 = try await store.append(Fixture.text("g", from: "ann", "x"))
            let noId2 = try await store.append(Fixture.text("g", from: "ann", "x"))
            try Expect.equal([noId1.duplicate, noId2.duplicate], [false, false], "messages without client id")
            try Expect.equal([noId1.message.seq, noId2.message.seq], [6, 7])
        },
        Check("unknown chats and messages are notFound, or nil for lookups") { store in
            try Expect.equal(try await store.chat("nope"), nil)
            try Expect.equal(try await store.member("nope", "ann"), nil)
            try Expect.equal(try await store.message("nope", seq: 1), nil)
            try Expect.equal(try await store.invitation("nope", "ann"), nil)
            try Expect.equal(try await store.memberships(of: "ann"), [])
            try Expect.equal(try await store.invitations(of: "ann"), [])
            try await Expect.error(.notFound, "append") { try await store.append(Fixture.text("nope", from: "a", "x")) }
            try await Expect.error(.notFound, "apply") {
                try await store.apply(.join(user: "a", role: .member), to: "nope", now: Fixture.now)
            }
            try await Expect.error(.notFound, "members") { try await store.members("nope") }
            try await Expect.error(.notFound, "history") { try await store.history("nope", before: nil, after: nil, limit: 10) }
            try await Expect.error(.notFound, "changes") { try await store.changes("nope", after: 0, limit: 10) }
            try await Expect.error(.notFound, "reactions") { try await store.reactions(of: "a", in: "nope", seqs: [1]) }
            try await Expect.error(.notFound, "markRead") { try await store.markRead("nope", user: "a", seq: 1) }
            try await Expect.error(.notFound, "unread") { try await store.unread("nope", user: "a") }

            try await Fixture.group(store, "g")
            _ = try await store.append(Fixture.text("g", from: "owner", "hi"))
            _ = try await store.edit("g", seq: 2, by: "owner", text: "hello", data: nil, now: Fixture.now)
            try Expect.equal(try await store.message("g", seq: 3), nil, "seq 3 was an edit, not a message")
            try Expect.equal(try await store.message("g", seq: 99), nil)
            for seq: Seq in [3, 99] {
                try await Expect.error(.notFound, "edit \(seq)") {
                    try await store.edit("g", seq: seq, by: "owner", text: "x", data: nil, now: Fixture.now)
                }
                try await Expect.error(.notFound, "delete \(seq)") { try await store.delete("g", seq: seq, by: "owner", now: Fixture.now) }
                try await Expect.error(.notFound, "react \(seq)") {
                    try await store.react("g", seq: seq, user: "owner", emoji: "👍", add: true)
                }
            }
            try await Expect.error(.notFound, "edit in an unknown chat") {
                try await store.edit("nope", seq: 2, by: "owner", text: "x", data: nil, now: Fixture.now)
            }
            try await Expect.error(.forbidden, "markRead by a non-member") { try await store.markRead("g", user: "zed", seq: 1) }
            try await Expect.error(.notFound, "unread of a non-member") { try await store.unread("g", user: "zed") }
            try Expect.equal(try await store.chat("g")?.seq, 3, "failed calls take no seq")
        },
    ]
}
