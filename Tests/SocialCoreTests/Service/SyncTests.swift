@testable import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// `sync`: what a reconnecting client gets, and that following it converges on the store.
@Suite struct SyncTests {
    let fixture = ServiceFixture()

    @Test func chatsTheClientDoesNotListComeAsNewSummaries() async throws {
        let group = try await fixture.group("bob", title: "Club", members: ["ann"])
        try await fixture.send("bob", group, "hello")
        let result: SyncResult = try await fixture.call("ann", Op.sync, SyncArgs(chats: []))
        let delta = try #require(result.chats.only)
        #expect(delta.new)
        #expect(delta.changes.isEmpty)
        #expect(delta.position == delta.chat.seq)
        #expect(delta.chat.seq == 4)
        #expect(delta.chat.lastMessage?.text == "hello")
        #expect(delta.chat.unread == 1)
        #expect(!delta.more && !result.more)
        #expect(result.removed.isEmpty)
    }

    @Test func upToDateChatsAreAbsentAndLeftChatsRemoved() async throws {
        let group = try await fixture.group("bob", members: ["ann"])
        let direct = try await fixture.direct("ann", "bob")
        try await fixture.send("bob", direct, "hi")
        let groupSeq = try #require(try await fixture.store.chat(group)).seq
        let groupRead = try #require(try await fixture.store.member(group, "ann")).readSeq
        let result: SyncResult = try await fixture.call("ann", Op.sync, SyncArgs(chats: [
            .init(chatId: group, seq: groupSeq, readSeq: groupRead),
            .init(chatId: direct, seq: 1, readSeq: 0),
            .init(chatId: "g_gone", seq: 9, readSeq: 0),
        ]))
        #expect(result.chats.isEmpty)
        #expect(result.removed == ["g_gone"])
        #expect(!result.more)

        let _: SystemMessageResult = try await fixture.call("ann", Op.groupLeave, GroupRef(groupId: group))
        let after: SyncResult = try await fixture.call("ann", Op.sync, SyncArgs(chats: [
            .init(chatId: group, seq: groupSeq, readSeq: groupRead), .init(chatId: direct, seq: 1, readSeq: 0),
        ]))
        #expect(after.removed == [group])
        #expect(after.chats.isEmpty)
    }

    @Test func aMovedReadMarkerAloneIsReported() async throws {
        let direct = try await fixture.direct("ann", "bob")
        for i in 1...3 { try await fixture.send("bob", direct, "m\(i)") }
        let _: ReadResult = try await fixture.call("ann", Op.chatRead, ChatSeqArgs(chatId: direct, seq: 2), device: "laptop")
        let result: SyncResult = try await fixture.call("ann", Op.sync, SyncArgs(chats: [.init(chatId: direct, seq: 3, readSeq: 0)]))
        let delta = try #require(result.chats.only)
        #expect(delta.changes.isEmpty)
        #expect(delta.chat.readSeq == 2)
        #expect(delta.chat.unread == 1)
        #expect(delta.position == 3)
        #expect(!delta.new && !delta.more)

        let omitted: SyncResult = try await fixture.call("ann", Op.sync, SyncArgs(chats: [.init(chatId: direct, seq: 3)]))
        #expect(omitted.chats.map(\.chat.chatId) == [direct])
        let known: SyncResult = try await fixture.call("ann", Op.sync, SyncArgs(chats: [.init(chatId: direct, seq: 3, readSeq: 2)]))
        #expect(known.chats.isEmpty)
    }

    @Test func changesComeOnceInTheirLatestState() async throws {
        let direct = try await fixture.direct("ann", "bob")
        let first = try await fixture.send("bob", direct, "v1")
        try await fixture.send("bob", direct, "other")
        for text in ["v2", "v3"] {
            let _: MessageResult = try await fixture.call("bob", Op.chatEdit, EditArgs(chatId: direct, seq: first.seq, text: text))
        }
        let _: ReactResult = try await fixture.call("ann", Op.chatReact, ReactArgs(chatId: direct, seq: first.seq, emoji: "👍"),
                                                    device: "laptop")
        let result: SyncResult = try await fixture.call("ann", Op.sync, SyncArgs(chats: [.init(chatId: direct, seq: 2, readSeq: 0)]))
        let delta = try #require(result.chats.only)
        #expect(delta.changes.map(\.seq) == [first.seq])
        #expect(delta.changes.first?.text == "v3")
        #expect(delta.changes.first?.reactions == ["👍": 1])
        #expect(delta.myReactions == [String(first.seq): ["👍"]])
        #expect(delta.position == 5)
        #expect(delta.position == delta.chat.seq)
    }

    @Test func theLimitBoundsChangesAcrossChats() async throws {
        let a = try await fixture.direct("ann", "bob")
        let b = try await fixture.direct("ann", "cat")
        for i in 1...5 {
            try await fixture.send("bob", a, "a\(i)")
            try await fixture.send("cat", b, "b\(i)")
        }
        let result: SyncResult = try await fixture.call("ann", Op.sync, SyncArgs(chats: [
            .init(chatId: a, seq: 0, readSeq: 0), .init(chatId: b, seq: 0, readSeq: 0),
        ], limit: 3))
        #expect(result.more)
        let byChat = Dictionary(uniqueKeysWithValues: result.chats.map { ($0.chat.chatId, $0) })
        #expect(byChat[a]?.changes.map(\.seq) == [1, 2, 3])
        #expect(byChat[a]?.position == 3)
        #expect(byChat[a]?.more == true)
        #expect(byChat[b]?.changes.isEmpty == true)
        #expect(byChat[b]?.position == 0)
        #expect(byChat[b]?.more == true)
    }

    @Test func syncArgsAreChecked() async throws {
        let zero = try await fixture.failure("ann", Op.sync, SyncArgs(chats: [], limit: 0))
        #expect(zero.code == .invalidArgs)
        let twice = try await fixture.failure("ann", Op.sync, SyncArgs(chats: [.init(chatId: "c", seq: 1), .init(chatId: "c", seq: 2)]))
        #expect(twice.code == .invalidArgs)
        #expect(twice.message.hasPrefix("chats[1].chat_id"))
        let negative = try await fixture.failure("ann", Op.sync, SyncArgs(chats: [.init(chatId: "c", seq: -1)]))
        #expect(negative.message.hasPrefix("chats[0].seq"))
        let negativeRead = try await fixture.failure("ann", Op.sync, SyncArgs(chats: [.init(chatId: "c", seq: 1, readSeq: -1)]))
        #expect(negativeRead.code == .invalidArgs)
        #expect(negativeRead.message.hasPrefix("chats[0].read_seq"))
    }

    @Test func aLimitAboveTheMaximumIsLoweredToIt() async throws {
        var limits = ChatLimits()
        limits.maxSyncLimit = 2
        let fixture = ServiceFixture(limits: limits)
        let direct = try await fixture.direct("ann", "bob")
        for i in 1...3 { try await fixture.send("bob", direct, "m\(i)") }
        let result: SyncResult = try await fixture.call("ann", Op.sync, SyncArgs(chats: [.init(chatId: direct, seq: 0)], limit: 1000))
        #expect(result.chats.only?.changes.map(\.seq) == [1, 2])
        #expect(result.more)
    }

    /// The client knows three chats, goes offline while about a hundred
    /// changes land in them (messages, edits, deletes, reactions, a read on
    /// another device) and a fourth chat appears; it then syncs with a small
    /// limit, following `more`, and must end with exactly the store's state.
    @Test(arguments: ServiceBackend.allCases)
    func aClientCatchesUpOnMissedChangesExactly(_ backend: ServiceBackend) async throws {
        try await backend.run { try await catchUp(f: $0) }
    }

    private func catchUp(f: ServiceFixture) async throws {
        let club = try await f.group("bob", title: "Club", members: ["ann", "cat"])
        let family = try await f.group("ann", title: "Family", members: ["bob", "cat"])
        let direct = try await f.direct("ann", "bob")
        let members: [ChatID: [UserID]] = [club: ["ann", "bob", "cat"], family: ["ann", "bob", "cat"], direct: ["ann", "bob"]]
        let chats = [club, family, direct]
        for chat in chats {
            for i in 1...4 { try await f.send(members[chat]![i % members[chat]!.count], chat, "early \(i)") }
        }

        var client = SyncClient(user: "ann", fixture: f)
        try await client.catchUp(limit: 50)
        #expect(Set(client.positions.keys) == Set(chats))
        let start = client.positions

        // Offline: about a hundred changes, from others and from ann's other device.
        var rng = SplitMix64(seed: 7)
        var counts: [String: Int] = [:]
        var live: [(chat: ChatID, seq: Seq, author: UserID)] = []
        for chat in chats {
            for m in try await f.store.history(chat, before: nil, after: nil, limit: 100) where !m.isSystem {
                live.append((chat, m.seq, m.sender))
            }
        }
        for step in 0..<100 {
            let chat = chats.randomElement(using: &rng)!
            let roll = Int.random(in: 0..<100, using: &rng)
            if roll < 45 || live.isEmpty {
                let author = members[chat]!.randomElement(using: &rng)!
                let sent = try await f.send(author, chat, "offline \(step)")
                live.append((chat, sent.seq, author))
                counts["send", default: 0] += 1
            } else if roll < 60 {
                let target = live.randomElement(using: &rng)!
                let _: MessageResult = try await f.call(target.author, Op.chatEdit,
                                                        EditArgs(chatId: target.chat, seq: target.seq, text: "edited \(step)"))
                counts["edit", default: 0] += 1
            } else if roll < 70 {
                let index = Int.random(in: 0..<live.count, using: &rng)
                let target = live.remove(at: index)
                let _: MessageResult = try await f.call(target.author, Op.chatDelete, ChatSeqArgs(chatId: target.chat, seq: target.seq))
                counts["delete", default: 0] += 1
            } else if roll < 92 {
                let target = live.randomElement(using: &rng)!
                let who = members[target.chat]!.randomElement(using: &rng)!
                let emoji = ["👍", "🔥", "💪"].randomElement(using: &rng)!
                let result: ReactResult = try await f.call(who, Op.chatReact, ReactArgs(
                    chatId: target.chat, seq: target.seq, emoji: emoji, remove: Bool.random(using: &rng)), device: "laptop")
                counts[result.changed ? "react" : "react.noop", default: 0] += 1
            } else {
                let seq = try #require(try await f.store.chat(chat)).seq
                let _: ReadResult = try await f.call("ann", Op.chatRead, ChatSeqArgs(chatId: chat, seq: seq - 1), device: "laptop")
                counts["read", default: 0] += 1
            }
        }
        let newGroup = try await f.group("cat", title: "New", members: ["ann"])
        try await f.send("cat", newGroup, "welcome")
        #expect(counts["send", default: 0] > 20 && counts["edit", default: 0] > 5)
        #expect(counts["delete", default: 0] > 3 && counts["react", default: 0] > 5 && counts["read", default: 0] > 0)

        var missed = 0
        for chat in chats { missed += try await f.store.changes(chat, after: start[chat]!, limit: 10_000).count }
        #expect(missed > 50)
        let callsBefore = client.syncCalls
        try await client.catchUp(limit: 7)
        #expect(client.syncCalls - callsBefore >= (missed + 6) / 7, "a limit of 7 needs several calls")

        // Exactly the store's state.
        let expected = Set(try await f.store.memberships(of: "ann").map(\.chat.id))
        #expect(Set(client.positions.keys) == expected)
        #expect(expected == Set(chats + [newGroup]))
        for chat in expected {
            let truth = try await f.store.history(chat, before: nil, after: nil, limit: 10_000)
            #expect(client.log(chat) == truth.map(\.wire), "chat \(chat)")
            #expect(client.positions[chat] == (try await f.store.chat(chat))?.seq)
            #expect(client.readSeqs[chat] == (try await f.store.member(chat, "ann"))?.readSeq)
            let reactions = try await f.store.reactions(of: "ann", in: chat, seqs: truth.map(\.seq))
            #expect((client.myReactions[chat] ?? [:]).filter { !$0.value.isEmpty } == reactions, "my reactions in \(chat)")
        }
        // No gaps, no duplicates: each changed message came exactly once.
        for chat in chats {
            let changed = try await f.store.changes(chat, after: start[chat]!, limit: 10_000).map(\.seq)
            #expect(Set((client.received[chat] ?? [:]).keys) == Set(changed), "changes of \(chat)")
            #expect((client.received[chat] ?? [:]).values.allSatisfy { $0 == 1 }, "duplicates in \(chat)")
        }
        // And now there is nothing left to tell.
        let idle = try await client.sync(limit: 7)
        #expect(idle.chats.isEmpty && idle.removed.isEmpty && !idle.more)
    }
}
