import Testing
import SocialProtocol

/// The tables of `protocol/errors.md` and `protocol/close-codes.md` list
/// exactly the codes of `ErrorCode` and `CloseCode`, with the same meaning.
@Suite struct ProtocolTablesTests {
    /// The body rows of the Markdown table whose header line starts with
    /// `header`, as cells trimmed and without backticks.
    private static func table(_ text: String, header: String) -> [[String]] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.hasPrefix(header) }) else { return [] }
        return lines[(start + 2)...].prefix { $0.hasPrefix("|") }.map { line in
            line.split(separator: "|").map { cell in
                String(cell.filter { $0 != "`" }.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
            }
        }
    }

    /// The raw values of `ErrorCode`'s static members, read from its source.
    private static func errorCodesInSource() throws -> Set<String> {
        let source = try ProtocolFiles.text("Sources/SocialProtocol/ErrorCode.swift")
        let marker = "= ErrorCode(rawValue: \""
        return Set(source.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.firstRange(of: marker) else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "\"" })
        })
    }

    @Test func errorsMdListsEveryErrorCodeWithItsTemporaryFlag() throws {
        let text = try ProtocolFiles.text("protocol/errors.md")
        let rows = Self.table(text, header: "| Code | Temporary |")
        let codes = try Self.errorCodesInSource()
        #expect(codes.count == 13, "ErrorCode.swift changed: update errors.md and this count")
        #expect(Set(rows.map { $0[0] }) == codes)
        #expect(rows.count == codes.count, "a code is listed twice")
        for row in rows {
            try #require(row.count >= 3, "row \(row) has no temporary column")
            let temporary = row[1]
            #expect(["yes", "no"].contains(temporary), "\(row[0]): temporary must be yes or no")
            #expect(ErrorCode(rawValue: row[0]).isTemporary == (temporary == "yes"), "\(row[0]): temporary differs from ErrorCode.isTemporary")
        }
    }

    @Test func closeCodesMdListsEveryCloseCode() throws {
        let text = try ProtocolFiles.text("protocol/close-codes.md")
        let rows = Self.table(text, header: "| Code | Name |")
        #expect(Set(rows.compactMap { UInt16($0[0]) }) == Set(CloseCode.allCases.map(\.rawValue)))
        #expect(rows.count == CloseCode.allCases.count, "a close code is listed twice")
        for row in rows {
            try #require(row.count >= 2, "row \(row) has no name")
            let code = try #require(UInt16(row[0]).flatMap(CloseCode.init(rawValue:)), "\(row[0]) is not a CloseCode")
            #expect("\(code)" == row[1], "\(row[0]) is `\(code)` in CloseCode.swift")
        }
    }
}
