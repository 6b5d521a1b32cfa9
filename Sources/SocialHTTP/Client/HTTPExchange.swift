/// One HTTP/1.1 request and its response on an `HTTPConnection`: writes the
/// request, reads the status, the headers and a body framed by
/// `Content-Length`, chunked transfer coding or the end of the stream.
///
/// Threads: a proxy worker. Only plain HTTP/1.1 upstreams; no redirects are
/// followed (a 3xx is returned as it is), no proxy from the environment is used.
struct HTTPExchange {
    /// Largest status line plus headers accepted from an upstream, bytes.
    static let maxHeadBytes = 16_384

    /// What an upstream answered; `keepAlive` when the connection can carry another request.
    struct Response {
        var status: Int
        /// Every header, names in lower case (the last one wins when repeated).
        var headers: [String: String]
        var body: [UInt8]
        var keepAlive: Bool
    }

    /// The request bytes: `headers` are (name, value) pairs already checked for control characters.
    static func request(method: String, target: String, host: String, headers: [(String, String)], body: [UInt8]?) -> [UInt8] {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body {
            text += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        } else if ["POST", "PUT", "PATCH"].contains(method) {
            text += "Content-Length: 0\r\n"
        }
        text += "\r\n"
        return Array(text.utf8) + (body ?? [])
    }

    /// Reads one response from `connection`. `isHead` for a `HEAD` request (no body follows).
    static func readResponse(_ connection: HTTPConnection, isHead: Bool, maxBody: Int,
                             deadline: Deadline) throws(HTTPClientError) -> Response {
        var status = 0
        var version = ""
        var headers: [String: String] = [:]
        repeat {  // 1xx interim responses are skipped
            let head = try readHead(connection, deadline: deadline)
            (version, status, headers) = try parseHead(head)
        } while (100..<200).contains(status) && status != 101
        guard status != 101 else { throw .malformed("the upstream switched protocols") }

        var keepAlive = version == "HTTP/1.1"
        if let value = headers["connection"]?.lowercased() {
            if value.contains("close") { keepAlive = false }
            if value.contains("keep-alive") { keepAlive = true }
        }
        if isHead || status == 204 || status == 304 {
            return Response(status: status, headers: headers, body: [], keepAlive: keepAlive)
        }
        let body: [UInt8]
        if let coding = headers["transfer-encoding"]?.lowercased() {
            guard coding.hasSuffix("chunked") else { throw .malformed("unsupported transfer-encoding \(coding)") }
            body = try readChunked(connection, maxBody: maxBody, deadline: deadline)
        } else if let lengthText = headers["content-length"] {
            guard let length = Int(lengthText.trimmed), length >= 0 else { throw .malformed("bad content-length") }
            guard length <= maxBody else { throw .tooLarge(maxBody) }
            body = try readExactly(connection, length, deadline: deadline)
        } else {
            keepAlive = false
            while try connection.fill(deadline: deadline) {
                guard connection.buffer.count <= maxBody else { throw .tooLarge(maxBody) }
            }
            body = connection.buffer
            connection.buffer = []
        }
        return Response(status: status, headers: headers, body: body, keepAlive: keepAlive)
    }

    /// The status line and headers, up to the blank line.
    private static func readHead(_ connection: HTTPConnection, deadline: Deadline) throws(HTTPClientError) -> [UInt8] {
        var searchFrom = 0
        while true {
            if let end = blankLine(in: connection.buffer, from: searchFrom) {
                let head = Array(connection.buffer[..<end])
                connection.buffer.removeFirst(end + 4)
                return head
            }
            searchFrom = max(0, connection.buffer.count - 3)
            guard connection.buffer.count <= maxHeadBytes else { throw .malformed("response headers over \(maxHeadBytes) bytes") }
            guard try connection.fill(deadline: deadline) else {
                throw connection.buffer.isEmpty ? .closed("the upstream closed the connection before responding")
                                                : .malformed("the upstream closed the connection mid-headers")
            }
        }
    }

    private static func blankLine(in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = start
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }

    static func parseHead(_ head: [UInt8]) throws(HTTPClientError) -> (String, Int, [String: String]) {
        let lines = String(decoding: head, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), statusParts[1].count == 3,
              let status = Int(statusParts[1]), (100...599).contains(status) else {
            throw .malformed("bad status line")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("bad header line") }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmed
        }
        return (String(statusParts[0]), status, headers)
    }

    private static func readExactly(_ connection: HTTPConnection, _ count: Int, deadline: Deadline) throws(HTTPClientError) -> [UInt8] {
        while connection.buffer.count < count {
            guard try connection.fill(deadline: deadline) else { throw .malformed("the upstream closed the connection mid-body") }
        }
        let bytes = Array(connection.buffer[..<count])
        connection.buffer.removeFirst(count)
        return bytes
    }

    private static func readLine(_ connection: HTTPConnection, deadline: Deadline) throws(HTTPClientError) -> String {
        while true {
            if let newline = connection.buffer.firstIndex(of: 10) {
                let line = String(decoding: connection.buffer[..<newline], as: UTF8.self)
                connection.buffer.removeFirst(newline + 1)
                return line.trimmed
            }
            guard connection.buffer.count <= 4096 else { throw .malformed("chunk line too long") }
            guard try connection.fill(deadline: deadline) else { throw .malformed("the upstream closed the connection mid-body") }
        }
    }

    private static func readChunked(_ connection: HTTPConnection, maxBody: Int, deadline: Deadline) throws(HTTPClientError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let line = try readLine(connection, deadline: deadline)
            let sizeText = line.prefix { $0 != ";" }.trimmed
            guard let size = Int(sizeText, radix: 16), size >= 0 else { throw .malformed("bad chunk size") }
            if size == 0 {
                while try !readLine(connection, deadline: deadline).isEmpty {}  // trailers
                return body
            }
            guard body.count + size <= maxBody else { throw .tooLarge(maxBody) }
            body += try readExactly(connection, size, deadline: deadline)
            guard try readLine(connection, deadline: deadline).isEmpty else { throw .malformed("chunk without CRLF") }
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and CR.
    var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
