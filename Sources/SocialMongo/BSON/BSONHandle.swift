import CGatewayShims
import CMongoC

/// Owns one `bson_t` (Swift sees it as an `OpaquePointer`), destroyed in `deinit`.
///
/// Made either from a `BSONDocument` (`bson_new` + `bson_append_*`) or empty
/// for a libmongoc out-parameter (`reply()`).
///
/// Threads: no affinity, but not thread-safe: one thread uses a handle at a
/// time (in practice the worker thread that made it).
final class BSONHandle {
    private enum Storage { case heap, reply }

    private let pointer: OpaquePointer
    private let storage: Storage

    private init(_ pointer: OpaquePointer, _ storage: Storage) {
        self.pointer = pointer
        self.storage = storage
    }

    deinit {
        switch storage {
        case .heap: bson_destroy(pointer)
        case .reply: sg_bson_reply_free(UnsafeMutablePointer(pointer))
        }
    }

    /// Encodes `document`.
    convenience init(_ document: BSONDocument) {
        guard let pointer = bson_new() else { fatalError("bson_new: out of memory") }
        self.init(pointer, .heap)
        for field in document.fields { append(field.key, field.value) }
    }

    /// An empty document for libmongoc to fill in (a reply): valid even when the call fails.
    static func reply() -> BSONHandle {
        guard let pointer = sg_bson_reply_new() else { fatalError("sg_bson_reply_new: out of memory") }
        return BSONHandle(OpaquePointer(pointer), .reply)
    }

    /// Calls `body` with the `bson_t*`. The pointer must not escape `body`.
    func withPointer<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        try body(pointer)
    }

    // MARK: Encoding

    /// Appends one field; libbson copies keys and values.
    private func append(_ key: String, _ value: BSON) {
        let appended: Bool = key.withCString { k in
            let length = Int32(key.utf8.count)
            switch value {
            case .string(let string):
                // With an explicit length, so strings holding NUL survive.
                return string.withCString { bson_append_utf8(pointer, k, length, $0, Int32(string.utf8.count)) }
            case .int64(let int): return bson_append_int64(pointer, k, length, int)
            case .double(let double): return bson_append_double(pointer, k, length, double)
            case .bool(let bool): return bson_append_bool(pointer, k, length, bool)
            case .null, .other: return bson_append_null(pointer, k, length)
            case .document(let document):
                return BSONHandle(document).withPointer { bson_append_document(pointer, k, length, $0) }
            case .array(let items):
                let array = BSONDocument(items.enumerated().map { (key: String($0.offset), value: $0.element) })
                return BSONHandle(array).withPointer { bson_append_array(pointer, k, length, $0) }
            }
        }
        // Appending fails only past libbson's 2 GiB document limit, far above MongoDB's 16 MiB.
        precondition(appended, "bson_append failed for \(key)")
    }
}
