// Args and result of `proxy.request`: a call to a REST service the gateway forwards.

/// `proxy.request`: one HTTP call to an allowlisted path of a configured upstream service.
public struct ProxyRequestArgs: Codable, Sendable, Equatable {
    /// The upstream's name, as configured (`training`, `profile`).
    public var service: String
    /// `GET`, `HEAD`, `POST`, `PUT`, `PATCH` or `DELETE`, and allowed for this path.
    public var method: String
    /// An absolute path with an optional query (`/v1/workouts?limit=20`), never a URL.
    public var path: String
    /// The JSON request body: only with `POST`, `PUT` and `PATCH`.
    public var body: JSONValue?

    public init(service: String, method: String, path: String, body: JSONValue? = nil) {
        self.service = service
        self.method = method
        self.path = path
        self.body = body
    }
}

/// Result of `proxy.request`: the upstream's answer, whatever its status.
public struct ProxyResult: Codable, Sendable, Equatable {
    /// The upstream's HTTP status (a 404 or a 500 is a result, not an error reply).
    public var status: Int
    /// The response headers of interest, names in lower case (see ops.md).
    public var headers: [String: String]
    /// The body, when the upstream sent JSON (`application/json` or `+json`).
    public var body: JSONValue?
    /// The body, when it was text (or JSON that did not parse) in UTF-8.
    public var text: String?
    /// The `X-Request-Id` the gateway sent upstream, for tracing.
    public var requestId: String

    public init(status: Int, headers: [String: String], body: JSONValue? = nil, text: String? = nil, requestId: String) {
        self.status = status
        self.headers = headers
        self.body = body
        self.text = text
        self.requestId = requestId
    }

    enum CodingKeys: String, CodingKey { case status, headers, body, text, requestId = "request_id" }
}
