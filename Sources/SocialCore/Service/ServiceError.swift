import SocialProtocol

/// A command the service refuses: the error reply it becomes. Thrown by the
/// op handlers, caught in `Dispatcher.handle`.
struct ServiceError: Error, Sendable {
    let body: ErrorBody

    init(_ code: ErrorCode, _ message: String) {
        body = ErrorBody(code, message)
    }

    /// `field` (its wire name, e.g. `attachments[1].url`) is malformed or out of range.
    static func invalidArgs(_ field: String, _ problem: String) -> ServiceError {
        ServiceError(.invalidArgs, "\(field): \(problem)")
    }

    /// `field` is larger than its limit.
    static func tooLarge(_ field: String, _ problem: String) -> ServiceError {
        ServiceError(.tooLarge, "\(field): \(problem)")
    }

    static func forbidden(_ message: String) -> ServiceError { ServiceError(.forbidden, message) }
    static func notFound(_ message: String) -> ServiceError { ServiceError(.notFound, message) }
    static func conflict(_ message: String) -> ServiceError { ServiceError(.conflict, message) }

    static func unknownOp(_ op: String) -> ServiceError { ServiceError(.unknownOp, "unknown op \"\(op)\"") }
}
