import Foundation
import SocialCore
import SocialSQLite
import Testing

/// The stores a service test can run over: the in-memory one and the
/// embedded SQLite store (in a temporary directory, removed afterwards).
enum ServiceBackend: String, CaseIterable, CustomTestStringConvertible {
    case memory
    case sqlite

    var testDescription: String { rawValue }

    /// Runs `body` with a fixture over a fresh store of this backend.
    func run(_ body: (ServiceFixture) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(ServiceFixture())
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("social-service-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let store = try SQLiteChatStore(directory: directory)
            do {
                try await body(ServiceFixture(store: store))
            } catch {
                await store.close()
                throw error
            }
            await store.close()
        }
    }
}
