import SocialCore

/// Calls from many tasks at once: each change is atomic, so exactly one
/// caller sees each transition.
extension PresenceStoreContract {
    static let concurrencyChecks: [Check] = [
        Check("concurrent sets and removes of one user: one caller sees them go online, one offline") { store in
            typealias F = PresenceFixture
            let sessions = (0..<20).map { "s\($0)" }
            let opened = try await concurrently(sessions) { id in try await F.set(store, "kim", F.session(id)) }
            try Expect.equal(opened.filter { $0 == F.change(F.offline("kim"), F.online("kim")) }.count, 1, "went online")
            try Expect.equal(opened.filter { $0 == F.change(F.online("kim"), F.online("kim")) }.count, 19, "already online")
            let closed = try await concurrently(sessions) { id in try await store.remove("kim", sessionId: id, now: F.now + 1) }
            try Expect.equal(closed.filter { $0 == F.change(F.online("kim"), F.offline("kim", lastSeen: F.now + 1)) }.count, 1,
                             "went offline")
            try Expect.equal(closed.filter { $0 == F.change(F.online("kim"), F.online("kim")) }.count, 19, "still online")
        },
        Check("concurrent sweeps report each change once") { store in
            typealias F = PresenceFixture
            let users = (0..<40).map { "sw\($0)" }
            for user in users {
                try await F.set(store, user, F.session("phone"), ttl: 1000)
                try await F.set(store, user, F.session("watch", .away), ttl: 1000)
            }
            let sweeps = try await concurrently(Array(0..<4)) { _ in
                var all: [PresenceChange] = []
                while true {
                    let changes = try await store.sweep(now: F.now + 1000, limit: 7)
                    if changes.isEmpty { return all }
                    all += changes
                }
            }
            try Expect.equal(F.byUser(sweeps.flatMap { $0 }),
                             users.sorted().map { F.change(F.online($0), F.offline($0, lastSeen: F.now + 1000)) })
        },
    ]

    /// Runs `body` for every element at once; returns the results in any order.
    static func concurrently<Element: Sendable, Result: Sendable>(
        _ elements: [Element], _ body: @escaping @Sendable (Element) async throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: Result.self) { group in
            for element in elements { group.addTask { try await body(element) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }
}
