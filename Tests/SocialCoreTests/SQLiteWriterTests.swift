import Foundation
import SocialCore
@testable import SocialSQLite
import Testing

/// Group commit: writes queued together commit in one transaction, and a
/// failing write rolls back alone. (In `StoreContractTests` so
/// `--filter StoreContract` runs it too.)
extension StoreContractTests {
    @Test func sqliteGroupCommitRollsBackOnlyTheFailingWrite() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteChatStore(directory: directory.path)
        let writer = store.writer
        func chat(_ id: ChatID) -> Chat {
            Chat(id: id, kind: .group, title: id, isOpen: true, owner: nil, directUsers: [], seq: 0, createdAt: 0)
        }

        // Hold the writer thread so the next writes queue up and form one batch.
        let gate = DispatchSemaphore(value: 0)
        let holding = Completion()
        let held = Task { try await writer.submit { _ in
            holding.finish()
            gate.wait()
        } }
        await holding.wait()
        let before = writer.stats

        let ok1 = Task { try await writer.submit { db in try db.insert(chat("a")) } }
        let thrown = Task { try await writer.submit { db in
            try db.insert(chat("b"))
            throw StoreError.conflict("refused after writing")
        } }
        let sqlFailure = Task { try await writer.submit { db in
            try db.insert(chat("a2"))
            try db.insert(chat("a2"))                        // primary key violation
        } }
        let ok2 = Task { try await writer.submit { db in try db.insert(chat("c")) } }
        while writer.queued < 4 { try await Task.sleep(for: .milliseconds(1)) }
        gate.signal()

        try await held.value
        try await ok1.value
        try await ok2.value
        await #expect(throws: StoreError.conflict("refused after writing")) { try await thrown.value }
        let error = await #expect(throws: StoreError.self) { try await sqlFailure.value }
        #expect(error?.isConflict == true)

        #expect(try await store.chat("a") != nil)
        #expect(try await store.chat("c") != nil)
        #expect(try await store.chat("b") == nil, "the failing write's own insert is rolled back")
        #expect(try await store.chat("a2") == nil)
        let after = writer.stats
        #expect(after.batches - before.batches == 2, "the held write, then one batch of four")
        #expect(after.ops - before.ops == 3, "the held write and the two successful ones")
        await store.close()
    }
}
