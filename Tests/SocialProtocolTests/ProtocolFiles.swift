#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SocialProtocol

/// The files of the repository the protocol tests read: the spec in
/// `protocol/` and the Swift sources it must agree with.
enum ProtocolFiles {
    /// The repository root: this file is `Tests/SocialProtocolTests/ProtocolFiles.swift`.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SocialProtocolTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static let examples = root.appendingPathComponent("protocol/examples")

    /// The names of the example frames, sorted.
    static func exampleNames() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }

    static func example(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: examples.appendingPathComponent(name)))
    }

    /// A text file by its path from the repository root.
    static func text(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: root.appendingPathComponent(path)), as: UTF8.self)
    }

    static func json(_ bytes: [UInt8]) throws -> JSONValue {
        try Codec.decode(JSONValue.self, from: bytes)
    }
}

extension JSONValue {
    /// Where two JSON values differ, as paths like `ok.message.pinned`, for
    /// readable failures.
    func differences(from other: JSONValue, at path: String = "") -> [String] {
        switch (self, other) {
        case (.object(let a), .object(let b)):
            return Set(a.keys).union(b.keys).sorted().flatMap { key -> [String] in
                let sub = path.isEmpty ? key : "\(path).\(key)"
                switch (a[key], b[key]) {
                case (let x?, let y?): return x.differences(from: y, at: sub)
                case (_?, nil): return ["\(sub): only in the first"]
                default: return ["\(sub): only in the second"]
                }
            }
        case (.array(let a), .array(let b)) where a.count == b.count:
            return zip(a, b).enumerated().flatMap { i, pair in pair.0.differences(from: pair.1, at: "\(path)[\(i)]") }
        default:
            return self == other ? [] : ["\(path.isEmpty ? "frame" : path): \(self) vs \(other)"]
        }
    }
}
