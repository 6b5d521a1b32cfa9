import SocialCore

/// Direct chats: one per pair of users, whoever opens it first.
extension StoreContract {
    static let directChecks: [Check] = [
        Check("openDirect creates one chat per pair, in either order") { store in
            let (chat, created) = try await store.openDirect(newId: "d1", between: "zoe", and: "al", now: Fixture.now)
            try Expect.equal(created, true)
            try Expect.equal(chat, Chat(id: "d1", kind: .direct, title: nil, isOpen: false, owner: nil,
                                        directUsers: ["al", "zoe"], seq: 0, createdAt: Fixture.now))
            try Expect.equal(try await store.chat("d1"), chat)
            try Expect.equal(try await store.members("d1"),
                             [Member(chatId: "d1", userId: "al", role: .member, readSeq: 0, joinedAt: Fixture.now),
                              Member(chatId: "d1", userId: "zoe", role: .member, readSeq: 0, joinedAt: Fixture.now)])
            let again = try await store.openDirect(newId: "d2", between: "al", and: "zoe", now: Fixture.now + 1)
            try Expect.equal(again.created, false)
            try Expect.equal(again.chat, chat)
            try Expect.equal(try await store.chat("d2"), nil, "no second chat")
            try Expect.equal(try await store.history("d1", before: nil, after: nil, limit: 10), [])

            let sent = try await store.append(Fixture.text("d1", from: "al", "hi"))
            try Expect.equal(sent.message.seq, 1, "a direct chat's first message")
            try Expect.equal(try await store.openDirect(newId: "d3", between: "zoe", and: "al", now: Fixture.now).chat.seq, 1)

            try await Expect.error(.conflict, "a direct chat with oneself") {
                try await store.openDirect(newId: "d4", between: "al", and: "al", now: Fixture.now)
            }
            try await Expect.error(.conflict, "an id already taken") {
                try await store.openDirect(newId: "d1", between: "al", and: "bo", now: Fixture.now)
            }
            for change: MembershipChange in [.join(user: "bo", role: .member), .rename(title: "x", by: "al"),
                                             .leave(user: "al")] {
                try await Expect.error(.conflict, "\(change) on a direct chat") {
                    try await store.apply(change, to: "d1", now: Fixture.now)
                }
            }
            try Expect.equal(try await store.chat("d1")?.seq, 1)
        },
        Check("concurrent openDirect calls all get the same chat") { store in
            let results = try await withThrowingTaskGroup(of: (chat: Chat, created: Bool).self) { group in
                for i in 0..<10 {
                    group.addTask {
                        let (a, b) = i % 2 == 0 ? ("ann", "bob") : ("bob", "ann")
                        return try await store.openDirect(newId: "d\(i)", between: a, and: b, now: Fixture.now)
                    }
                }
                return try await group.reduce(into: [(chat: Chat, created: Bool)]()) { $0.append($1) }
            }
            try Expect.equal(results.filter(\.created).count, 1, "callers that created it")
            let chat = results[0].chat
            for result in results { try Expect.equal(result.chat, chat, "every caller's chat") }
            try Expect.equal(chat.directUsers, ["ann", "bob"])
            try Expect.equal(try await store.memberships(of: "ann").map(\.chat), [chat])
            try Expect.equal(try await store.memberships(of: "bob").map(\.chat), [chat])
        },
    ]
}
