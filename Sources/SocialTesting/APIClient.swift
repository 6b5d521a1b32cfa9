import Foundation

/// Calls the gateway's backend API (`/api/v1/...`) over a raw socket, one
/// connection per call, as a backend holding a client-credentials token would.
public struct APIClient: Sendable {
    public var port: Int
    /// The bearer token; nil sends no Authorization header.
    public var token: String?

    public init(port: Int, token: String?) {
        self.port = port
        self.token = token
    }

    /// Sends a request with `body` as is (with its Content-Length) and reads the response.
    public func call(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:],
                     timeout: Double = 10) throws -> HTTPResponse {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        var headers = headers
        if let body {
            if headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
            headers["Content-Length"] = "\(body.utf8.count)"
        }
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        return try RawSocket.exchange(port: port, request: request + "\r\n" + (body ?? ""), timeout: timeout)
    }

    /// Sends `json` (serialised) as the body.
    public func call(_ method: String, _ path: String, json: [String: Any], timeout: Double = 10) throws -> HTTPResponse {
        let data = try JSONSerialization.data(withJSONObject: json)
        return try call(method, path, body: String(decoding: data, as: UTF8.self), timeout: timeout)
    }
}

extension HTTPResponse {
    /// The body as a JSON object, or nil.
    public var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
    }
}
