/// A BSON value as plain Swift data. Documents are built and read as these
/// values; only `BSONHandle` (encoding) and `BSONHandle.document()` (decoding)
/// touch libbson, so the store's logic stays free of C.
///
/// Integers are always written as int64; int32 values the server sends
/// (counts, flags) are read as `.int64` too.
enum BSON: Equatable, Sendable {
    case string(String)
    case int64(Int64)
    case double(Double)
    case bool(Bool)
    case null
    case document(BSONDocument)
    case array([BSON])
    /// A value of a type the store never writes (ObjectId, dates...), kept only so reading does not fail.
    case other

    var string: String? { if case .string(let value) = self { return value } else { return nil } }
    var bool: Bool? { if case .bool(let value) = self { return value } else { return nil } }
    var document: BSONDocument? { if case .document(let value) = self { return value } else { return nil } }
    var array: [BSON]? { if case .array(let value) = self { return value } else { return nil } }

    /// An integer, also from a double holding one (`ok: 1.0`).
    var int64: Int64? {
        switch self {
        case .int64(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9.2e18: return Int64(value)
        default: return nil
        }
    }
}

/// An ordered BSON document: field order matters to MongoDB (sort specs, index keys, commands).
struct BSONDocument: Equatable, Sendable, ExpressibleByDictionaryLiteral {
    private(set) var fields: [(key: String, value: BSON)]

    init() { fields = [] }

    init(dictionaryLiteral elements: (String, BSON)...) {
        fields = elements.map { (key: $0.0, value: $0.1) }
    }

    init(_ fields: [(key: String, value: BSON)]) { self.fields = fields }

    static func == (lhs: BSONDocument, rhs: BSONDocument) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// The first field named `key`; setting replaces it in place, or appends; nil removes it.
    subscript(key: String) -> BSON? {
        get { fields.first { $0.key == key }?.value }
        set {
            let index = fields.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let i?, let value?): fields[i].value = value
            case (let i?, nil): fields.remove(at: i)
            case (nil, let value?): fields.append((key: key, value: value))
            case (nil, nil): break
            }
        }
    }

    /// Appends every field of `other` (replacing fields of the same name).
    func merging(_ other: BSONDocument) -> BSONDocument {
        var result = self
        for field in other.fields { result[field.key] = field.value }
        return result
    }

    var isEmpty: Bool { fields.isEmpty }
}

extension BSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
                ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int64) { self = .int64(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: BSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, BSON)...) {
        self = .document(BSONDocument(elements.map { (key: $0.0, value: $0.1) }))
    }

    /// `.string` or `.null`.
    static func optional(_ value: String?) -> BSON { value.map(BSON.string) ?? .null }
}
