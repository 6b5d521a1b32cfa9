import CGatewayShims
import CMongoC

/// Reading a `bson_t` into Swift values with `bson_iter_*`.
///
/// Threads: the thread that owns the `bson_t` being read.
extension BSONHandle {
    /// The whole document as Swift values.
    func document() -> BSONDocument {
        withPointer { BSONHandle.decode($0) }
    }

    /// Decodes the `bson_t` at `pointer` (borrowed: a cursor's current document or a handle's own).
    static func decode(_ pointer: OpaquePointer) -> BSONDocument {
        BSONIterator.withIterator { iter in
            guard bson_iter_init(iter, pointer) else { return BSONDocument() }
            return fields(iter)
        }
    }

    /// Reads every remaining field at `iter`'s level.
    private static func fields(_ iter: OpaquePointer) -> BSONDocument {
        var fields: [(key: String, value: BSON)] = []
        while bson_iter_next(iter) {
            fields.append((key: String(cString: bson_iter_key(iter)), value: value(iter)))
        }
        return BSONDocument(fields)
    }

    /// The value at `iter`'s current field.
    private static func value(_ iter: OpaquePointer) -> BSON {
        switch bson_iter_type(iter) {
        case BSON_TYPE_UTF8:
            var length: UInt32 = 0
            guard let bytes = bson_iter_utf8(iter, &length) else { return .null }
            let buffer = UnsafeRawBufferPointer(start: bytes, count: Int(length))
            return .string(String(decoding: buffer, as: UTF8.self))
        case BSON_TYPE_INT64: return .int64(bson_iter_int64(iter))
        case BSON_TYPE_INT32: return .int64(Int64(bson_iter_int32(iter)))
        case BSON_TYPE_DOUBLE: return .double(bson_iter_double(iter))
        case BSON_TYPE_BOOL: return .bool(bson_iter_bool(iter))
        case BSON_TYPE_NULL, BSON_TYPE_UNDEFINED: return .null
        case BSON_TYPE_DOCUMENT:
            return BSONIterator.withIterator { child in
                bson_iter_recurse(iter, child) ? .document(fields(child)) : .null
            }
        case BSON_TYPE_ARRAY:
            return BSONIterator.withIterator { child in
                bson_iter_recurse(iter, child) ? .array(fields(child).fields.map(\.value)) : .null
            }
        default: return .other
        }
    }
}

/// Heap storage for one `bson_iter_t`, which Swift cannot size (see CGatewayShims).
private enum BSONIterator {
    /// Calls `body` with a fresh iterator; it must not escape `body`.
    static func withIterator<T>(_ body: (OpaquePointer) -> T) -> T {
        guard let raw = sg_bson_iter_new() else { fatalError("sg_bson_iter_new: out of memory") }
        defer { sg_bson_iter_free(raw) }
        return body(OpaquePointer(raw))
    }
}
