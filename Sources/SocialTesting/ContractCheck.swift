/// One named check of a store contract (`StoreContract`, `PresenceStoreContract`,
/// `BotStoreContract`, `NotificationStoreContract`), run against a fresh store
/// of each backend. Threads: immutable; any task may run it.
public struct ContractCheck<Store>: Sendable, CustomStringConvertible {
    public let name: String
    let body: @Sendable (Store) async throws -> Void

    init(_ name: String, _ body: @escaping @Sendable (Store) async throws -> Void) {
        self.name = name
        self.body = body
    }

    public var description: String { name }

    /// Runs the check against a fresh store from `factory`; a failure names the check.
    /// - Parameter factory: makes the store; the caller cleans up what it made.
    public func run(_ factory: () async throws -> Store) async throws {
        let store = try await factory()
        do {
            try await body(store)
        } catch let failure as ContractFailure {
            throw ContractFailure("\(name): \(failure.message)", at: failure.location)
        } catch {
            throw ContractFailure("\(name): unexpected error \(error)", at: "")
        }
    }
}
