@testable import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// chat.history, chat.read, chat.typing.
@Suite struct ReadingTests {
    let fixture = ServiceFixture()

    /// A direct chat with messages "m1"..."m\(count)" at seqs 1...count.
    private func makeChat(messages count: Int) async throws -> ChatID {
        let chat = try await fixture.direct("ann", "bob")
        for i in 1...count { try await fixture.send(i.isMultiple(of: 2) ? "bob" : "ann", chat, "m\(i)") }
        return chat
    }

    private func page(_ args: HistoryArgs, as user: UserID = "ann") async throws -> HistoryResult {
        try await fixture.call(user, Op.chatHistory, args)
    }

    @Test func historyPagesBackwardsFromTheLatest() async throws {
        let chat = try await makeChat(messages: 12)
        let latest = try await page(HistoryArgs(chatId: chat, limit: 5))
        #expect(latest.messages.map(\.seq) == [8, 9, 10, 11, 12])
        #expect(latest.more)
        let older = try await page(HistoryArgs(chatId: chat, before: 8, limit: 5))
        #expect(older.messages.map(\.seq) == [3, 4, 5, 6, 7])
        #expect(older.more)
        let oldest = try await page(HistoryArgs(chatId: chat, before: 3, limit: 5))
        #expect(oldest.messages.map(\.seq) == [1, 2])
        #expect(!oldest.more)
    }

    @Test func historyPagesForwards() async throws {
        let chat = try await makeChat(messages: 7)
        let first = try await page(HistoryArgs(chatId: chat, after: 0, limit: 4))
        #expect(first.messages.map(\.seq) == [1, 2, 3, 4])
        #expect(first.more)
        let rest = try await page(HistoryArgs(chatId: chat, after: 4, limit: 4))
        #expect(rest.messages.map(\.seq) == [5, 6, 7])
        #expect(!rest.more)
        let exact = try await page(HistoryArgs(chatId: chat, after: 3, limit: 4))
        #expect(!exact.more)
    }

    @Test func historyArgsAreChecked() async throws {
        let chat = try await makeChat(messages: 3)
        let both = try await fixture.failure("ann", Op.chatHistory, HistoryArgs(chatId: chat, before: 3, after: 1))
        #expect(both.code == .invalidArgs)
        let zero = try await fixture.failure("ann", Op.chatHistory, HistoryArgs(chatId: chat, limit: 0))
        #expect(zero.code == .invalidArgs)
        #expect(zero.message.hasPrefix("limit"))
        let negative = try await fixture.failure("ann", Op.chatHistory, HistoryArgs(chatId: chat, after: -1))
        #expect(negative.code == .invalidArgs)
        let outsider = try await fixture.failure("zed", Op.chatHistory, HistoryArgs(chatId: chat))
        #expect(outsider.code == .forbidden)
    }

    @Test func historyLimitDefaultsAndIsCapped() async throws {
        var limits = ChatLimits()
        limits.defaultHistoryLimit = 3
        limits.maxHistoryLimit = 4
        let fixture = ServiceFixture(limits: limits)
        let chat = try await fixture.direct("ann", "bob")
        for i in 1...6 { try await fixture.send("ann", chat, "m\(i)") }
        let byDefault: HistoryResult = try await fixture.call("ann", Op.chatHistory, HistoryArgs(chatId: chat))
        #expect(byDefault.messages.count == 3)
        let capped: HistoryResult = try await fixture.call("ann", Op.chatHistory, HistoryArgs(chatId: chat, limit: 1000))
        #expect(capped.messages.count == 4)
        #expect(capped.more)
    }

    @Test func historyCarriesMyReactionsBySeq() async throws {
        let chat = try await makeChat(messages: 3)
        for (seq, emoji, user) in [(Int64(1), "👍", "ann"), (1, "🔥", "ann"), (2, "👍", "bob"), (3, "💪", "ann")] {
            let _: ReactResult = try await fixture.call(user, Op.chatReact, ReactArgs(chatId: chat, seq: seq, emoji: emoji))
        }
        let mine = try await page(HistoryArgs(chatId: chat))
        #expect(mine.myReactions == ["1": ["👍", "🔥"], "3": ["💪"]])
        #expect(mine.messages.first?.reactions == ["👍": 1, "🔥": 1])
        let bobs = try await page(HistoryArgs(chatId: chat), as: "bob")
        #expect(bobs.myReactions == ["2": ["👍"]])
    }

    @Test func readRaisesTheMarkerAndPublishesOnlyWhenItMoves() async throws {
        let chat = try await makeChat(messages: 6)
        fixture.bus.reset()
        let first: ReadResult = try await fixture.call("ann", Op.chatRead, ChatSeqArgs(chatId: chat, seq: 4))
        #expect(first == ReadResult(chatId: chat, readSeq: 4, unread: 1))  // bob's m6 is after 4
        let same: ReadResult = try await fixture.call("ann", Op.chatRead, ChatSeqArgs(chatId: chat, seq: 4))
        #expect(same.readSeq == 4)
        let lower: ReadResult = try await fixture.call("ann", Op.chatRead, ChatSeqArgs(chatId: chat, seq: 2))
        #expect(lower.readSeq == 4)
        let beyond: ReadResult = try await fixture.call("ann", Op.chatRead, ChatSeqArgs(chatId: chat, seq: 99))
        #expect(beyond == ReadResult(chatId: chat, readSeq: 6, unread: 0))

        let events = fixture.bus.events
        #expect(events.map(\.topic) == [.chat(chat), .chat(chat)])
        #expect(events.map(\.eventName) == [EventName.read, EventName.read])
        #expect(try events.map { try $0.payload(ReadEvent.self) } == [
            ReadEvent(chatId: chat, userId: "ann", seq: 4), ReadEvent(chatId: chat, userId: "ann", seq: 6),
        ])
        let outsider = try await fixture.failure("zed", Op.chatRead, ChatSeqArgs(chatId: chat, seq: 1))
        #expect(outsider.code == .forbidden)
    }

    @Test func typingIsEphemeralAndThrottledPerDevice() async throws {
        let chat = try await fixture.direct("ann", "bob")
        fixture.bus.reset()
        let first: TypingResult = try await fixture.call("ann", Op.chatTyping, TypingArgs(chatId: chat))
        #expect(!first.throttled)
        fixture.clock.advance(by: 1999)
        let soon: TypingResult = try await fixture.call("ann", Op.chatTyping, TypingArgs(chatId: chat))
        #expect(soon.throttled)
        let otherDevice: TypingResult = try await fixture.call("ann", Op.chatTyping, TypingArgs(chatId: chat), device: "watch")
        #expect(!otherDevice.throttled)
        fixture.clock.advance(by: 1)
        let later: TypingResult = try await fixture.call("ann", Op.chatTyping, TypingArgs(chatId: chat))
        #expect(!later.throttled)

        let events = fixture.bus.events
        #expect(events.count == 3)
        #expect(events.allSatisfy { $0.topic == .chat(chat) && $0.ephemeral && $0.eventName == EventName.typing })
        #expect(try events[1].payload(TypingEvent.self) == TypingEvent(chatId: chat, userId: "ann", deviceId: "watch"))
        #expect(try await fixture.store.history(chat, before: nil, after: nil, limit: 10).isEmpty)
        let outsider = try await fixture.failure("zed", Op.chatTyping, TypingArgs(chatId: chat))
        #expect(outsider.code == .forbidden)
    }

    @Test func typingThrottleTableStaysBounded() {
        var throttle = TypingThrottle(intervalMs: 2000, capacity: 3)
        func key(_ n: Int) -> TypingThrottle.Key { .init(user: "u\(n)", device: "d", chat: "c") }
        // (`admit` is mutating: its results are taken out of `#expect`, which captures immutably.)
        let fresh = (0..<3).map { throttle.admit(key($0), now: 1000) }
        #expect(fresh == [true, true, true])
        let shed = throttle.admit(key(3), now: 1500)    // full of fresh entries: shed
        #expect(!shed)
        #expect(throttle.count == 3)
        let afterStale = throttle.admit(key(3), now: 3000)    // the old ones are stale now
        #expect(afterStale)
        #expect(throttle.count == 1)
        let again = throttle.admit(key(3), now: 4000)   // and the new one is throttled as usual
        #expect(!again)
        for n in 0..<1000 { _ = throttle.admit(key(n), now: 10_000 + Int64(n) * 10) }
        #expect(throttle.count <= 3)
    }
}
