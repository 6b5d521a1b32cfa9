import Foundation
import SocialAuth
import SocialCore
import SocialProtocol

/// What the head of a backend API request carried, read on the lws thread.
struct APIRequestHead: Equatable {
    var method: String
    /// The path, without the query string.
    var path: String
    var query: [String: String] = [:]
    var authorization: String?
    var contentType: String?
    /// The declared `Content-Length`, nil when absent.
    var contentLength: Int?
    /// `Transfer-Encoding: chunked` without a length: refused (411).
    var chunked = false
    var requestId: String?
    /// The caller's `traceparent` header, as sent.
    var traceparent: String?
}

/// A refused API request: the problem, and the one extra header it needs
/// (`WWW-Authenticate` on 401/403, `Allow` on 405).
struct APIRefusal: Error, Equatable {
    var problem: APIProblem
    var header: (name: String, value: String)?

    static func == (a: APIRefusal, b: APIRefusal) -> Bool {
        a.problem == b.problem && a.header?.name == b.header?.name && a.header?.value == b.header?.value
    }
}

/// Decides a backend API request from its head, before the body is read:
/// size, client-credentials token, route, scope. No I/O, so it is tested
/// without sockets; immutable, so any thread may call it.
struct APIGate: Sendable {
    let verifier: TokenVerifier
    let router: APIRouter
    let maxBodyBytes: Int

    static let prefix = "/api/"

    enum Decision {
        case refuse(APIRefusal)
        /// Run `route` once the body is in; `request.body` is still empty.
        case admit(APIRoute, APIRequest)
    }

    func evaluate(_ head: APIRequestHead, now: Double) -> Decision {
        if head.chunked && head.contentLength == nil {
            return .refuse(.init(problem: .init(status: 411, title: "Length Required",
                                                detail: "send the body with a Content-Length (chunked bodies are not accepted)")))
        }
        if let length = head.contentLength, length > maxBodyBytes {
            return .refuse(.init(problem: .payloadTooLarge(
                "the body has \(length) bytes; the most this gateway accepts is \(maxBodyBytes) (--api-max-body-bytes)")))
        }
        let identity: Identity
        switch authenticate(head.authorization, now: now) {
        case .success(let verified): identity = verified
        case .failure(let refusal): return .refuse(refusal)
        }
        let route: APIRoute
        let parameters: [String: String]
        switch router.match(method: head.method, path: head.path) {
        case .notFound:
            return .refuse(.init(problem: .notFound("no endpoint \(head.path); see protocol/openapi.yaml")))
        case .methodNotAllowed(let allowed):
            return .refuse(.init(problem: .methodNotAllowed("\(head.method) is not allowed on \(head.path); use \(allowed.joined(separator: ", "))"),
                                 header: ("Allow:", allowed.joined(separator: ", "))))
        case .route(let found, let bound):
            route = found
            parameters = bound
        }
        guard identity.scopes.contains(route.scope) else {
            let challenge = #"Bearer error="insufficient_scope", scope="\#(route.scope)""#
            return .refuse(.init(problem: .forbidden("\(route.method) \(route.pattern) needs the scope \(route.scope); the token has \(identity.scopes.isEmpty ? "none" : identity.scopes.joined(separator: " "))"),
                                 header: ("WWW-Authenticate:", challenge)))
        }
        if let type = head.contentType, (head.contentLength ?? 0) > 0, !Self.isJSON(type) {
            return .refuse(.init(problem: .unsupportedMediaType("bodies are application/json, not \(type)")))
        }
        let request = APIRequest(method: head.method, path: head.path, pathParameters: parameters, query: head.query,
                                 clientId: identity.userId, scopes: identity.scopes,
                                 requestId: head.requestId.flatMap(Self.validRequestId) ?? Self.makeRequestId(),
                                 trace: .span(continuing: head.traceparent.flatMap { TraceContext(traceparent: $0) }))
        return .admit(route, request)
    }

    private func authenticate(_ authorization: String?, now: Double) -> Result<Identity, APIRefusal> {
        guard let authorization else {
            return .failure(.init(problem: .unauthorized("no credentials: send Authorization: Bearer <client-credentials token>"),
                                  header: ("WWW-Authenticate:", #"Bearer realm="social-api""#)))
        }
        guard authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            return .failure(.init(problem: .unauthorized("Authorization must be Bearer <token>"),
                                  header: ("WWW-Authenticate:", #"Bearer realm="social-api", error="invalid_request""#)))
        }
        let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        switch verifier.verify(token, now: now) {
        case .success(let identity):
            return .success(identity)
        case .failure(let failure):
            return .failure(.init(problem: .unauthorized(failure.description),
                                  header: ("WWW-Authenticate:", #"Bearer realm="social-api", error="invalid_token""#)))
        }
    }

    static func isJSON(_ contentType: String) -> Bool {
        let type = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    /// A caller's `X-Request-Id`, when it is short and printable.
    static func validRequestId(_ id: String) -> String? {
        guard (1...128).contains(id.utf8.count), id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return id
    }

    static func makeRequestId() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }
}
