import CMongoC
import SocialCore

/// How the store connects: the URI with the options the store insists on.
///
/// Threads: start-up only, on the thread that builds the store's pool.
struct MongoSettings {
    /// Milliseconds to find a usable server before an operation fails (then `unavailable`).
    var serverSelectionTimeoutMS: Int
    /// `"majority"` or a number of nodes (`"1"`, `"2"`...).
    var writeConcern: String
    /// How long a write waits for its write concern before failing.
    var writeConcernTimeoutMS: Int = 5_000
    /// Used for connect and socket timeouts when the URI does not set them,
    /// so a database that stops answering fails calls in seconds, not minutes.
    var socketTimeoutMS: Int = 10_000
}

/// Owns one `mongoc_uri_t`, destroyed in `deinit`.
///
/// Threads: start-up only (the pool copies the URI when it is made).
final class MongoURI {
    private let pointer: OpaquePointer

    /// Parses `string` and applies `settings`. Throws `unavailable` (a
    /// configuration error the gateway reports at start-up) when either is invalid.
    init(_ string: String, settings: MongoSettings) throws {
        var error = bson_error_t()
        guard let pointer = mongoc_uri_new_with_error(string, &error) else {
            throw StoreError.unavailable("mongo: invalid URI: \(MongoFailure(error).message)")
        }
        self.pointer = pointer
        // From here on, deinit frees the URI if a setting below throws.
        try set(MONGOC_URI_SERVERSELECTIONTIMEOUTMS, settings.serverSelectionTimeoutMS, always: true)
        try set(MONGOC_URI_CONNECTTIMEOUTMS, min(settings.serverSelectionTimeoutMS, settings.socketTimeoutMS), always: false)
        try set(MONGOC_URI_SOCKETTIMEOUTMS, settings.socketTimeoutMS, always: false)
        try setWriteConcern(settings.writeConcern, timeoutMS: settings.writeConcernTimeoutMS)
    }

    deinit { mongoc_uri_destroy(pointer) }

    /// Calls `body` with the `mongoc_uri_t*`; it must not escape `body`.
    func withPointer<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T { try body(pointer) }

    private func set(_ option: String, _ value: Int, always: Bool) throws {
        guard always || !mongoc_uri_has_option(pointer, option) else { return }
        guard value > 0, value <= Int(Int32.max), mongoc_uri_set_option_as_int32(pointer, option, Int32(value)) else {
            throw StoreError.unavailable("mongo: invalid \(option) \(value)")
        }
    }

    private func setWriteConcern(_ value: String, timeoutMS: Int) throws {
        guard let concern = mongoc_write_concern_new() else { fatalError("mongoc_write_concern_new: out of memory") }
        defer { mongoc_write_concern_destroy(concern) }
        if value == "majority" {
            mongoc_write_concern_set_wmajority(concern, Int32(clamping: timeoutMS))
        } else if let nodes = Int32(value), nodes >= 1 {
            // w:0 is refused: the store needs acknowledged writes to see duplicate keys and to be durable.
            mongoc_write_concern_set_w(concern, nodes)
            mongoc_write_concern_set_wtimeout_int64(concern, Int64(timeoutMS))
        } else {
            throw StoreError.unavailable("mongo: invalid write concern \"\(value)\" (use \"majority\" or a number >= 1)")
        }
        mongoc_uri_set_write_concern(pointer, concern)
    }
}
