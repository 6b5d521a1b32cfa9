import SocialCore
import SocialProtocol

/// A failed expectation of a contract check.
public struct ContractFailure: Error, CustomStringConvertible {
    public let message: String
    /// `file:line` of the failed expectation.
    public let location: String

    init(_ message: String, at location: String) {
        self.message = message
        self.location = location
    }

    public var description: String { location.isEmpty ? message : "\(message) (\(location))" }
}

/// Expectation helpers for contract checks: each throws a `ContractFailure` on failure.
enum Expect {
    static func that(_ condition: Bool, _ what: @autoclosure () -> String,
                     file: StaticString = #fileID, line: UInt = #line) throws {
        guard !condition else { return }
        throw ContractFailure(what(), at: "\(file):\(line)")
    }

    static func equal<T: Equatable>(_ actual: T, _ expected: T, _ what: @autoclosure () -> String = "",
                                    file: StaticString = #fileID, line: UInt = #line) throws {
        guard actual != expected else { return }
        let prefix = what().isEmpty ? "" : "\(what()): "
        throw ContractFailure("\(prefix)expected \(expected), got \(actual)", at: "\(file):\(line)")
    }

    static func some<T>(_ value: T?, _ what: @autoclosure () -> String,
                        file: StaticString = #fileID, line: UInt = #line) throws -> T {
        guard let value else { throw ContractFailure("\(what()): got nil", at: "\(file):\(line)") }
        return value
    }

    /// The refusals a check expects, by the wire code they answer with
    /// (`LogRules.errorCode(of:)`): a store's `StoreError` or a rule's error.
    enum ErrorKind: CustomStringConvertible {
        case notFound, conflict, forbidden, invalidArgs

        var code: ErrorCode {
            switch self {
            case .notFound: return .notFound
            case .conflict: return .conflict
            case .forbidden: return .forbidden
            case .invalidArgs: return .invalidArgs
            }
        }

        func matches(_ error: any Error) -> Bool { LogRules.errorCode(of: error) == code }

        var description: String { code.rawValue }
    }

    /// Expects `body` to throw an error of `kind`.
    static func error<T>(_ kind: ErrorKind, _ what: @autoclosure () -> String,
                         file: StaticString = #fileID, line: UInt = #line,
                         _ body: () async throws -> T) async throws {
        let outcome: String
        do {
            let value = try await body()
            outcome = "returned \(value)"
        } catch where kind.matches(error) {
            return
        } catch {
            outcome = "threw \(error)"
        }
        throw ContractFailure("\(what()): expected \(kind), \(outcome)", at: "\(file):\(line)")
    }
}

/// Fixed values the checks build on.
enum Fixture {
    static let now: Int64 = 1_700_000_000_000

    static func text(_ chat: ChatID, from sender: UserID, _ text: String, clientMsgId: String? = nil) -> NewMessage {
        NewMessage(chatId: chat, sender: sender, text: text, clientMsgId: clientMsgId, createdAt: now)
    }

    /// A group `id` owned by `owner`, with `members` joined as members.
    @discardableResult
    static func group(_ store: any ChatStore, _ id: ChatID, owner: UserID = "owner",
                      members: [UserID] = []) async throws -> Chat {
        let (chat, _) = try await store.createGroup(id: id, title: "Group \(id)", isOpen: true, owner: owner, now: now)
        for user in members {
            _ = try await store.apply(.join(user: user, role: .member), to: id, now: now)
        }
        return members.isEmpty ? chat : try Expect.some(try await store.chat(id), "chat \(id)")
    }
}
