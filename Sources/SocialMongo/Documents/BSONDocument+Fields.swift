import Foundation
import SocialCore
import SocialProtocol

/// Typed reads of stored documents. A required field that is missing or of
/// the wrong type means the document was not written by this store.
extension BSONDocument {
    func string(_ key: String) throws -> String {
        guard let value = self[key]?.string else { throw malformed(key) }
        return value
    }

    func int64(_ key: String) throws -> Int64 {
        guard let value = self[key]?.int64 else { throw malformed(key) }
        return value
    }

    func bool(_ key: String) throws -> Bool {
        guard let value = self[key]?.bool else { throw malformed(key) }
        return value
    }

    func optionalString(_ key: String) -> String? { self[key]?.string }
    func optionalInt64(_ key: String) -> Int64? { self[key]?.int64 }

    /// A raw value of `T` (an enum stored as its raw string).
    func enumValue<T: RawRepresentable>(_ key: String, _ type: T.Type) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: try string(key)) else { throw malformed(key) }
        return value
    }

    func malformed(_ key: String) -> StoreError {
        .unavailable("mongo: stored document has no valid \"\(key)\": \(self)")
    }

    /// Sets `key` to `value`, or leaves it out when nil (absent fields stay absent).
    mutating func setOptional(_ key: String, _ value: BSON?) {
        if let value { self[key] = value }
    }
}

/// Client-defined JSON (message data, attachment meta) is stored as JSON
/// text: its keys may hold `.` or `$`, which MongoDB field names refuse.
enum StoredJSON {
    static func text(_ value: JSONValue?) throws -> BSON? {
        guard let value else { return nil }
        do {
            return .string(String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
        } catch {
            throw StoreError.unavailable("mongo: cannot encode JSON: \(error)")
        }
    }

    static func value(_ bson: BSON?) throws -> JSONValue? {
        guard let text = bson?.string else { return nil }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw StoreError.unavailable("mongo: stored JSON is invalid: \(error)")
        }
    }
}
