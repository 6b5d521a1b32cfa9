import Testing
import SocialProtocol

/// The tables of `protocol/errors.md` and `protocol/close-codes.md` list
/// exactly the codes of `ErrorCode` and `CloseCode`, with the same meaning.
@Suite struct ProtocolTablesTests {
    /// Rows of a Markdown table whose first cell matches `firstCell`: the cells, trimmed, without backticks.
    private static func rows(_ text: String, firstCell: (String) -> Bool) -> [[String]] {
        text.split(separator: "\n").compactMap { line -> [String]? in
            guard line.hasPrefix("|") else { return nil }
            let cells = line.split(separator: "|").map { cell in
                String(cell.filter { $0 != "`" }.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
            }
            guard let first = cells.first, firstCell(first) else { return nil }
            return cells
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
        let rows = Self.rows(text) { cell in !cell.isEmpty && cell.allSatisfy { $0.isLowercase || $0 == "_" } }
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
        let rows = Self.rows(text) { cell in cell.count == 4 && cell.allSatisfy(\.isNumber) }
        #expect(Set(rows.compactMap { UInt16($0[0]) }) == Set(CloseCode.allCases.map(\.rawValue)))
        #expect(rows.count == CloseCode.allCases.count, "a close code is listed twice")
    }
}
