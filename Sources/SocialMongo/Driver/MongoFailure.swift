import CMongoC
import SocialCore

/// A libmongoc error at the boundary: a typed Swift value instead of a
/// `bson_error_t`. Operations decide what a duplicate key means (a conflict,
/// a write already applied, a lost race); everything else is the backend
/// failing: server selection, network, timeouts, write concern, server errors.
struct MongoFailure: Error, CustomStringConvertible {
    let domain: UInt32
    let code: UInt32
    let message: String

    /// Threads: any (reads a value the caller owns).
    init(_ error: bson_error_t) {
        var error = error
        domain = error.domain
        code = error.code
        message = withUnsafeBytes(of: &error.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    init(domain: UInt32 = 0, code: UInt32 = 0, message: String) {
        self.domain = domain
        self.code = code
        self.message = message
    }

    /// E11000 and its legacy forms: a unique index refused the write.
    var isDuplicateKey: Bool { code == 11000 || code == 11001 || code == 12582 }

    var description: String { "\(message) (domain \(domain), code \(code))" }

    /// What callers see. Every failure but a duplicate key is temporary: the
    /// gateway answers `unavailable` and clients retry.
    var storeError: StoreError {
        isDuplicateKey ? .conflict("mongo: \(message)") : .unavailable("mongo: \(description)")
    }
}

extension StoreError {
    /// `error` as a `StoreError`: store errors pass through, libmongoc failures map as above.
    static func from(_ error: Error) -> StoreError {
        switch error {
        case let error as StoreError: return error
        case let failure as MongoFailure: return failure.storeError
        default: return .unavailable("mongo: \(error)")
        }
    }

    /// `error` as a change's completion gets it: libmongoc failures map as
    /// above; store errors and a rule's refusal (`LogRules`) pass unchanged.
    static func refusal(_ error: any Error) -> any Error {
        (error as? MongoFailure)?.storeError ?? error
    }
}
