import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// A client that keeps chats the way the protocol tells clients to: it
/// upserts messages by seq, keeps a position and read marker per chat,
/// follows `more`, and loads the history of chats `sync` reports as new.
/// It checks the server's promises as it goes (bounded pages, ascending
/// changes, positions that only move forward).
struct SyncClient {
    let user: UserID
    let fixture: ServiceFixture
    /// Each chat's messages by seq.
    var messages: [ChatID: [Seq: WireMessage]] = [:]
    /// The user's own reactions, by chat and seq.
    var myReactions: [ChatID: [Seq: [String]]] = [:]
    var positions: [ChatID: Seq] = [:]
    var readSeqs: [ChatID: Seq] = [:]
    /// How often `sync` returned each message, by chat and seq.
    var received: [ChatID: [Seq: Int]] = [:]
    var syncCalls = 0

    init(user: UserID, fixture: ServiceFixture) {
        self.user = user
        self.fixture = fixture
    }

    /// Calls `sync` until nothing more waits; loads the history of new chats.
    mutating func catchUp(limit: Int) async throws {
        for _ in 0..<1000 {
            let result = try await sync(limit: limit)
            if !result.more { return }
        }
        Issue.record("sync did not finish in 1000 calls")
    }

    /// One `sync` call, applied.
    @discardableResult
    mutating func sync(limit: Int?) async throws -> SyncResult {
        let listed = positions.keys.sorted().map {
            SyncArgs.Position(chatId: $0, seq: positions[$0]!, readSeq: readSeqs[$0])
        }
        let result: SyncResult = try await fixture.call(user, Op.sync, SyncArgs(chats: listed, limit: limit))
        syncCalls += 1
        if let limit { #expect(result.chats.reduce(0) { $0 + $1.changes.count } <= limit) }
        #expect(result.more == result.chats.contains(where: \.more))

        for chat in result.removed {
            #expect(positions[chat] != nil, "removed \(chat), which the client did not list")
            messages[chat] = nil
            myReactions[chat] = nil
            positions[chat] = nil
            readSeqs[chat] = nil
        }
        for delta in result.chats {
            let chat = delta.chat.chatId
            readSeqs[chat] = delta.chat.readSeq
            if delta.new {
                #expect(positions[chat] == nil)
                #expect(delta.changes.isEmpty)
                #expect(delta.position == delta.chat.seq)
                positions[chat] = delta.position
                try await loadHistory(chat)
                continue
            }
            let old = try #require(positions[chat], "a delta for \(chat), which the client does not know")
            var previous = old
            for message in delta.changes {
                #expect(message.updatedSeq > previous, "changes ascend by updated_seq")
                previous = message.updatedSeq
                messages[chat, default: [:]][message.seq] = message
                myReactions[chat, default: [:]][message.seq] = delta.myReactions[String(message.seq)]
                received[chat, default: [:]][message.seq, default: 0] += 1
            }
            #expect(delta.position >= previous)
            #expect(delta.more || delta.position == delta.chat.seq)
            positions[chat] = delta.position
        }
        return result
    }

    /// Reads a chat's whole history with `chat.history`, oldest first.
    mutating func loadHistory(_ chat: ChatID) async throws {
        var after: Seq = 0
        while true {
            let page: HistoryResult = try await fixture.call(user, Op.chatHistory,
                                                             HistoryArgs(chatId: chat, after: after, limit: 10))
            for message in page.messages {
                messages[chat, default: [:]][message.seq] = message
                myReactions[chat, default: [:]][message.seq] = page.myReactions[String(message.seq)]
            }
            after = page.messages.last?.seq ?? after
            if !page.more { return }
        }
    }

    /// The chat's messages, ascending by seq.
    func log(_ chat: ChatID) -> [WireMessage] {
        (messages[chat] ?? [:]).values.sorted { $0.seq < $1.seq }
    }
}

/// A small deterministic generator, so a failing run can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
