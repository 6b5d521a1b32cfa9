/// An error from a store. A struct over a private enum, so new cases do not
/// break callers; `isTemporary` tells whether a retry may succeed.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Sendable, Equatable {
        case notFound
        case conflict
        case unavailable
    }

    private let kind: Kind
    public let message: String

    private init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The chat, member or message does not exist.
    public static func notFound(_ message: String) -> StoreError { StoreError(.notFound, message) }
    /// The change does not apply to the current state (already a member, message deleted...).
    public static func conflict(_ message: String) -> StoreError { StoreError(.conflict, message) }
    /// The backend failed or is unreachable; nothing was changed.
    public static func unavailable(_ message: String) -> StoreError { StoreError(.unavailable, message) }

    public var isNotFound: Bool { kind == .notFound }
    public var isConflict: Bool { kind == .conflict }
    public var isTemporary: Bool { kind == .unavailable }

    public var description: String { "\(kind): \(message)" }
}
