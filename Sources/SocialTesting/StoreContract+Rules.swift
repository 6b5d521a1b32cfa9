import SocialCore
import SocialProtocol

/// The log rules (`LogRules`) checked inside the store, atomically with the
/// change, and the order of changes submitted back to back.
extension StoreContract {
    static let ruleChecks: [Check] = [
        Check("sends, edits, deletes, reactions and reads follow the rules, and a refused change stores nothing") { store in
            try await Fixture.group(store, "g", owner: "ann", members: ["bob", "cy"])      // 1 created, 2 and 3 joined
            try await Expect.error(.notFound, "a send to an unknown chat") {
                try await store.append(Fixture.text("nope", from: "ann", "x"))
            }
            try await Expect.error(.forbidden, "a non-member's send") { try await store.append(Fixture.text("g", from: "zed", "x")) }
            try await Expect.error(.invalidArgs, "a reply to a message the chat lacks") {
                try await store.append(NewMessage(chatId: "g", sender: "bob", text: "re", replyTo: 99, createdAt: Fixture.now))
            }
            let system = try await store.append(NewMessage(chatId: "g", sender: "backend", senderKind: .system, text: "tip",
                                                           createdAt: Fixture.now))
            try Expect.equal(system.message.seq, 4, "the system sends without being a member")
            let bobs = try await store.append(Fixture.text("g", from: "bob", "mine")).message               // 5

            try await Expect.error(.forbidden, "an edit by another member") {
                try await store.edit("g", seq: bobs.seq, by: "cy", text: "not yours", data: nil, now: Fixture.now)
            }
            try await Expect.error(.forbidden, "an edit by a non-member") {
                try await store.edit("g", seq: bobs.seq, by: "zed", text: "x", data: nil, now: Fixture.now)
            }
            try await Expect.error(.forbidden, "an edit of a system message") {
                try await store.edit("g", seq: 1, by: "ann", text: "x", data: nil, now: Fixture.now)
            }
            try await Expect.error(.forbidden, "a delete by a member who is neither author nor admin") {
                try await store.delete("g", seq: bobs.seq, by: "cy", now: Fixture.now)
            }
            try await Expect.error(.forbidden, "a delete of a system message") {
                try await store.delete("g", seq: 2, by: "ann", now: Fixture.now)
            }
            try await Expect.error(.forbidden, "a non-member's reaction") {
                try await store.react("g", seq: bobs.seq, user: "zed", emoji: "👍", add: true)
            }
            try await Expect.error(.forbidden, "a non-member's read") { try await store.markRead("g", user: "zed", seq: 5) }
            try Expect.equal(try await store.chat("g")?.seq, 5, "refused changes take no seq")
            try Expect.equal(try await store.message("g", seq: bobs.seq), bobs, "refused changes change nothing")
            try Expect.equal(try await store.history("g", before: nil, after: nil, limit: 100).map(\.seq), [1, 2, 3, 4, 5])

            let edited = try await store.edit("g", seq: bobs.seq, by: "bob", text: "mine, edited", data: nil, now: Fixture.now)
            try Expect.equal(edited.updatedSeq, 6, "the author edits")
            try Expect.equal(try await store.react("g", seq: bobs.seq, user: "cy", emoji: "👍", add: true)?.updatedSeq, 7,
                             "a member reacts")
            try Expect.equal(try await store.markRead("g", user: "cy", seq: 7), 7, "a member reads")
            let deleted = try await store.delete("g", seq: bobs.seq, by: "ann", now: Fixture.now)
            try Expect.equal(deleted.updatedSeq, 8, "the owner (an admin) deletes another member's message")
            let own = try await store.append(Fixture.text("g", from: "cy", "oops")).message                  // 9
            try Expect.equal(try await store.delete("g", seq: own.seq, by: "cy", now: Fixture.now).updatedSeq, 10,
                             "the author deletes")

            _ = try await store.apply(.kick(user: "bob", by: "ann"), to: "g", now: Fixture.now)             // 11
            try await Expect.error(.forbidden, "a send after a kick") { try await store.append(Fixture.text("g", from: "bob", "x")) }
            try await Expect.error(.forbidden, "a read after a kick") { try await store.markRead("g", user: "bob", seq: 11) }
            try Expect.equal(try await store.chat("g")?.seq, 11)
        },
        Check("a join sets the new member's read marker at the join's message") { store in
            try await Fixture.group(store, "g", owner: "ann")
            for text in ["a", "b", "c"] { _ = try await store.append(Fixture.text("g", from: "ann", text)) }   // 2 3 4
            let joined = try await store.apply(.join(user: "bob", role: .member), to: "g", now: Fixture.now)  // 5
            try Expect.equal(joined.seq, 5)
            try Expect.equal(try await store.member("g", "bob")?.readSeq, 5, "history before the join counts as read")
            try Expect.equal(try await store.unread("g", user: "bob"), 0)
            try Expect.equal(try await store.memberships(of: "bob").map(\.unread), [0])
            _ = try await store.append(Fixture.text("g", from: "ann", "welcome"))
            try Expect.equal(try await store.unread("g", user: "bob"), 1)
            try Expect.equal(try await store.markRead("g", user: "bob", seq: 1), 5, "a read never lowers the marker")
        },
        Check("a send queued behind a kick of its sender is refused and stores nothing") { store in
            try await Fixture.group(store, "g", owner: "ann", members: ["bob"])             // 1 created, 2 joined
            // Submitted back to back from one thread: the send waits in the
            // store's queue behind the kick, and is checked when it is applied.
            let done = await Fixture.backToBack(store, [
                .membership(.kick(user: "bob", by: "ann"), to: "g"),
                .log(.send(Fixture.text("g", from: "bob", "too late", clientMsgId: "late"))),
                .log(.read("g", user: "bob", seq: 3)),
            ])
            try Expect.equal(done.map(\.index), [0, 1, 2], "completion order")
            guard case .system(let kick) = done[0].outcome else { throw ContractFailure("kick: \(done[0].outcome)", at: "") }
            try Expect.equal(kick.seq, 3)
            try Expect.equal(done[1].outcome.code, .forbidden, "the queued send")
            try Expect.equal(done[2].outcome.code, .forbidden, "the queued read")
            try Expect.equal(try await store.chat("g")?.seq, 3, "the refused send took no seq")
            try Expect.equal(try await store.history("g", before: nil, after: nil, limit: 100).map(\.system?.action),
                             [.created, .joined, .kicked], "no message from bob")

            // The other way round: a send queued before the kick is stored.
            _ = try await store.apply(.join(user: "bob", role: .member), to: "g", now: Fixture.now)         // 4
            let first = await Fixture.backToBack(store, [
                .log(.send(Fixture.text("g", from: "bob", "in time"))),
                .membership(.kick(user: "bob", by: "ann"), to: "g"),
            ])
            try Expect.equal(first.map(\.index), [0, 1], "completion order")
            try Expect.equal(first[0].outcome.seq, 5, "the send before the kick")
            try Expect.equal(first[1].outcome.seq, 6, "the kick")
        },
        Check("changes submitted back to back from one thread apply and complete in submission order") { store in
            try await Fixture.group(store, "g", owner: "ann", members: ["bob"])             // 1 created, 2 joined
            let count = 200
            // Every 10th is refused (a reply to a message that does not exist):
            // it completes in its place and takes no seq.
            let submissions: [Fixture.Submission] = (0..<count).map { i in
                .log(.send(NewMessage(chatId: "g", sender: i % 2 == 0 ? "ann" : "bob", text: "m\(i)",
                                      replyTo: i % 10 == 9 ? 10_000 : nil, createdAt: Fixture.now)))
            }
            let done = await Fixture.backToBack(store, submissions)
            try Expect.equal(done.map(\.index), Array(0..<count), "completion order")
            var expected: Seq = 2
            for (index, outcome) in done {
                if index % 10 == 9 {
                    try Expect.equal(outcome.code, .invalidArgs, "refused send \(index)")
                } else {
                    expected += 1
                    try Expect.equal(outcome.seq, expected, "seq of send \(index)")
                }
            }
            let history = try await store.history("g", before: nil, after: 2, limit: 1_000)
            try Expect.equal(history.map(\.seq), Array(3...expected), "gap-free")
            try Expect.equal(history.compactMap(\.text), (0..<count).filter { $0 % 10 != 9 }.map { "m\($0)" },
                             "stored in submission order")
            try Expect.equal(try await store.chat("g")?.seq, expected)
        },
    ]
}
