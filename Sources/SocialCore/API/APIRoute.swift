import SocialProtocol

/// One endpoint of the backend HTTP API (`/api/v1/...`), which backends and
/// operators call with an OAuth 2.0 client-credentials token. The transport
/// authenticates the caller and checks `scope` before `handler` runs; the
/// handler reads the request and returns a response (or throws an
/// `APIProblem`, which becomes an `application/problem+json` body).
public struct APIRoute: Sendable {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    public var method: String
    /// The path, with `{name}` for a path parameter: `/api/v1/bots/{id}/secret`.
    public var pattern: String
    /// The scope the caller's token must carry (`social:notify`, `social:admin`, ...).
    public var scope: String
    public var handler: @Sendable (APIRequest) async throws -> APIResponse

    public init(_ method: String, _ pattern: String, scope: String,
                handler: @escaping @Sendable (APIRequest) async throws -> APIResponse) {
        self.method = method
        self.pattern = pattern
        self.scope = scope
        self.handler = handler
    }
}

/// A backend API request, after authentication.
public struct APIRequest: Sendable {
    public var method: String
    public var path: String
    /// `{name}` segments of the route's pattern, percent-decoded.
    public var pathParameters: [String: String]
    /// Query arguments, percent-decoded.
    public var query: [String: String]
    /// The request body (JSON for every endpoint that takes one).
    public var body: [UInt8]
    /// The token's `sub`: the backend service or operator calling.
    public var clientId: String
    public var scopes: [String]
    /// The `X-Request-Id` header, or one the gateway made; it follows the call through logs.
    public var requestId: String
    /// The gateway's span of the request: a child of the `traceparent`
    /// header, or the root of a new trace. While the handler runs it is
    /// `RequestContext.trace`.
    public var trace: TraceContext?

    public init(method: String, path: String, pathParameters: [String: String] = [:], query: [String: String] = [:],
                body: [UInt8] = [], clientId: String, scopes: [String], requestId: String, trace: TraceContext? = nil) {
        self.method = method
        self.path = path
        self.pathParameters = pathParameters
        self.query = query
        self.body = body
        self.clientId = clientId
        self.scopes = scopes
        self.requestId = requestId
        self.trace = trace
    }
}

/// A backend API response.
public struct APIResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "application/json", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// An RFC 9457 problem: the body of every refused API request.
public struct APIProblem: Error, Sendable, Equatable {
    public var status: Int
    /// A short, stable title (`Bad Request`, `Forbidden`, ...).
    public var title: String
    /// What exactly was wrong, for the person reading the logs.
    public var detail: String

    public init(status: Int, title: String, detail: String) {
        self.status = status
        self.title = title
        self.detail = detail
    }

    public static func badRequest(_ detail: String) -> APIProblem { .init(status: 400, title: "Bad Request", detail: detail) }
    public static func notFound(_ detail: String) -> APIProblem { .init(status: 404, title: "Not Found", detail: detail) }
    public static func conflict(_ detail: String) -> APIProblem { .init(status: 409, title: "Conflict", detail: detail) }
}
