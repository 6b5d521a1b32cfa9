import Foundation
import SocialCore
@testable import SocialSQLite
import SocialTesting
import Testing

/// What only the SQLite store promises: its data outlives the process.
/// (In `StoreContractTests` so `--filter StoreContract` runs it too.)
extension StoreContractTests {
    @Test func sqliteDataSurvivesCloseAndReopen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let now: Int64 = 1_700_000_000_000

        let first = try SQLiteChatStore(directory: directory.path)
        let (group, _) = try await first.createGroup(id: "g", title: "Runners", isOpen: false, owner: "ann", now: now)
        _ = try await first.apply(.join(user: "bob", role: .member), to: "g", now: now)
        _ = try await first.apply(.invite(user: "cy", by: "ann"), to: "g", now: now)
        let sent = try await first.append(NewMessage(chatId: "g", sender: "ann", text: "hi", clientMsgId: "c1",
                                                     attachments: [Attachment(url: "https://x/a")],
                                                     data: .object(["k": .string("v")]), createdAt: now))
        _ = try await first.react("g", seq: sent.message.seq, user: "bob", emoji: "👍", add: true)
        _ = try await first.markRead("g", user: "bob", seq: sent.message.seq)
        let direct = try await first.openDirect(newId: "d", between: "bob", and: "ann", now: now).chat
        let history = try await first.history("g", before: nil, after: nil, limit: 100)
        let chat = try await first.chat("g")
        await first.close()
        await first.close()                                   // idempotent
        await #expect(throws: StoreError.self) { try await first.chat("g") }
        #expect(await first.ping() == false)

        let second = try SQLiteChatStore(directory: directory.path)
        #expect(await second.ping())
        #expect(try await second.chat("g") == chat)
        #expect(chat?.title == group.title)
        #expect(try await second.history("g", before: nil, after: nil, limit: 100) == history)
        #expect(try await second.member("g", "bob")?.readSeq == sent.message.seq)
        #expect(try await second.invitation("g", "cy")?.invitedBy == "ann")
        #expect(try await second.reactions(of: "bob", in: "g", seqs: [sent.message.seq]) == [sent.message.seq: ["👍"]])
        #expect(try await second.openDirect(newId: "d2", between: "ann", and: "bob", now: now) == (direct, false))
        let retry = try await second.append(NewMessage(chatId: "g", sender: "ann", text: "hi", clientMsgId: "c1", createdAt: now))
        #expect(retry.duplicate)
        let next = try await second.append(NewMessage(chatId: "g", sender: "ann", text: "again", createdAt: now))
        #expect(next.message.seq == (chat?.seq ?? 0) + 1)
        await second.close()
    }

    @Test func sqliteCreatesTheDirectoryAndDatabaseFile() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteChatStore(directory: directory.path + "/nested/data")
        #expect(store.path == directory.path + "/nested/data/social.sqlite3")
        #expect(FileManager.default.fileExists(atPath: store.path))
        await store.close()
    }
}

extension StoreContractTests {
    /// The writer never checkpoints (the WAL hook replaced SQLite's automatic
    /// checkpoint): the checkpointer thread copies the log into the database
    /// file while the store runs.
    @Test func sqliteCheckpointsTheLogOffTheWriterThread() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteChatStore(directory: directory.path)
        _ = try await store.createGroup(id: "g", title: "Big", isOpen: true, owner: "ann", now: 0)
        let page = String(repeating: "x", count: 4_000)             // about a page per message
        for i in 0..<Int(SQLiteChatStore.checkpointFrames) * 3 / 2 {
            _ = try await store.append(NewMessage(chatId: "g", sender: "ann", text: "\(i) \(page)", createdAt: 0))
        }
        func databaseBytes() -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: store.path))?[.size] as? Int) ?? 0
        }
        var waited = 0
        while databaseBytes() < 4_000_000 && waited < 500 {           // at most 5 s
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(databaseBytes() >= 4_000_000, "the log was copied into the database file before close")
        #expect(store.checkpointer.checkpoints >= 1, "by the checkpointer")
        await store.close()
    }

    /// Under writes that never pause, the log still starts over: the writer
    /// copies the rest of it once it is `restartFrames` long, and the file
    /// stays near that size. (SQLite alone starts the log over only when a
    /// transaction begins with all of it copied, which a busy writer never
    /// sees: the log grew by every commit.)
    @Test func sqliteStartsTheLogOverUnderSteadyWrites() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let restartFrames = SQLiteChatStore.checkpointFrames          // the smallest the store takes
        let store = try SQLiteChatStore(directory: directory.path, restartFrames: restartFrames)
        let created = try await store.createGroup(id: "g", title: "Big", isOpen: true, owner: "ann", now: 0).0.seq
        let limitBytes = SQLiteChatStore.logSizeLimit(restartFrames: restartFrames)
        let page = String(repeating: "x", count: 4_000)             // a page or more per message
        let (senders, each) = (16, limitBytes / 4_000 * 2 / 16)     // twice what the limit holds
        // 16 senders keep the writer's queue full, so no group begins with the log copied.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sender in 0..<senders {
                group.addTask {
                    for i in 0..<each {
                        _ = try await store.append(NewMessage(chatId: "g", sender: "ann", text: "\(sender).\(i) \(page)", createdAt: 0))
                    }
                }
            }
            try await group.waitForAll()
        }
        let log = (try? FileManager.default.attributesOfItem(atPath: store.path + "-wal"))?[.size] as? Int ?? 0
        #expect(try await store.chat("g")?.seq == created + Int64(senders * each))
        #expect(store.checkpointer.restartsCopied >= 2)
        #expect(log <= limitBytes, "the log stays near restartFrames frames")
        await store.close()
    }
}
