import SocialProtocol

extension APIRequest {
    /// The JSON body as `Body`; an empty body reads as `{}`.
    /// - Throws: `APIProblem.badRequest` naming the field that is wrong.
    public func decode<Body: Decodable>(_ type: Body.Type) throws(APIProblem) -> Body {
        do {
            return try APIBody.decode(type, from: body)
        } catch {
            throw APIProblem.badRequest("request body: \(error.message)")
        }
    }

    /// A path parameter the route's pattern guarantees.
    public func parameter(_ name: String) -> String { pathParameters[name] ?? "" }
}

extension APIResponse {
    /// A JSON response.
    public static func json<Body: Encodable>(_ status: Int, _ value: Body) -> APIResponse {
        APIResponse(status: status, body: APIBody.encode(value))
    }

    /// 204, no body.
    public static var noContent: APIResponse { APIResponse(status: 204, contentType: "application/json", body: []) }
}

extension APIProblem {
    /// The media type of problem bodies (RFC 9457).
    public static let contentType = "application/problem+json"

    public static func unauthorized(_ detail: String) -> APIProblem { .init(status: 401, title: "Unauthorized", detail: detail) }
    public static func forbidden(_ detail: String) -> APIProblem { .init(status: 403, title: "Forbidden", detail: detail) }
    public static func methodNotAllowed(_ detail: String) -> APIProblem {
        .init(status: 405, title: "Method Not Allowed", detail: detail)
    }
    public static func payloadTooLarge(_ detail: String) -> APIProblem {
        .init(status: 413, title: "Content Too Large", detail: detail)
    }
    public static func unsupportedMediaType(_ detail: String) -> APIProblem {
        .init(status: 415, title: "Unsupported Media Type", detail: detail)
    }
    public static func unprocessable(_ detail: String) -> APIProblem {
        .init(status: 422, title: "Unprocessable Content", detail: detail)
    }
    public static func unavailable(_ detail: String) -> APIProblem {
        .init(status: 503, title: "Service Unavailable", detail: detail)
    }
    public static func `internal`(_ detail: String) -> APIProblem {
        .init(status: 500, title: "Internal Server Error", detail: detail)
    }

    /// The problem as an `application/problem+json` response. `type` is
    /// `about:blank` (RFC 9457 §4.2.1): the status and title say it all.
    public func response(instance: String? = nil) -> APIResponse {
        APIResponse(status: status, contentType: Self.contentType,
                    body: APIBody.encode(Body(type: "about:blank", title: title, status: status,
                                              detail: detail, instance: instance)))
    }

    private struct Body: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
        let instance: String?
    }
}
