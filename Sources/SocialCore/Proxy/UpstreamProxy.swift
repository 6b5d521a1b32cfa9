import SocialProtocol

/// Forwards `proxy.request` calls to the REST services that own training and
/// profile data. The core decides who may call and shapes the reply; an
/// adapter (`SocialHTTP.HTTPUpstreamProxy`) checks the allowlist and does the I/O.
public protocol UpstreamProxy: Sendable {
    /// Sends one call upstream and returns the upstream's response, whatever
    /// its status. Throws `ProxyFailure` when the call is refused (not
    /// allowlisted, limits) or gets no usable response (down, slow, too large).
    func forward(_ call: UpstreamCall) async throws -> UpstreamResponse
}

/// One call to forward, with the identity of the person it is made for.
public struct UpstreamCall: Sendable, Equatable {
    /// The configured upstream's name.
    public var service: String
    /// The HTTP method as the client sent it (checked by the proxy).
    public var method: String
    /// The path and query as the client sent them (checked by the proxy).
    public var path: String
    /// The JSON body, already encoded; nil for none.
    public var body: [UInt8]?
    /// The caller's user id (`X-User-Id`).
    public var userId: UserID
    /// The caller's device id (`X-Device-Id`).
    public var deviceId: String
    /// The bearer token of the caller's session (`Authorization`).
    public var accessToken: String
    /// A unique id for this call (`X-Request-Id`), echoed in the reply.
    public var requestId: String
    /// The span of the command that makes the call (`traceparent`: the
    /// upstream's span is its child); nil starts a new trace.
    public var trace: TraceContext?

    public init(service: String, method: String, path: String, body: [UInt8]?, userId: UserID,
                deviceId: String, accessToken: String, requestId: String, trace: TraceContext? = nil) {
        self.service = service
        self.method = method
        self.path = path
        self.body = body
        self.userId = userId
        self.deviceId = deviceId
        self.accessToken = accessToken
        self.requestId = requestId
        self.trace = trace
    }
}

/// What an upstream answered.
public struct UpstreamResponse: Sendable, Equatable {
    public var status: Int
    /// The response headers of interest (names in lower case); the rest are dropped.
    public var headers: [String: String]
    /// The body bytes, at most the configured maximum.
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A proxied call that was refused or failed: it becomes an error reply.
public struct ProxyFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let body: ErrorBody

    public init(_ code: ErrorCode, _ message: String, retryAfterMs: Int? = nil) {
        body = ErrorBody(code, message, retryAfterMs: retryAfterMs)
    }

    public var code: ErrorCode { body.code }
    public var description: String { "\(body.code): \(body.message)" }
}
