import Testing
import SocialCore
import SocialProtocol

@Suite struct APIRouterTests {
    static func route(_ method: String, _ pattern: String) -> APIRoute {
        APIRoute(method, pattern, scope: "s") { _ in .noContent }
    }

    @Test func literalSegmentsWinOverParameters() {
        let router = APIRouter([Self.route("GET", "/api/v1/bots/{id}"), Self.route("GET", "/api/v1/bots/count")])
        guard case .route(let route, let parameters) = router.match(method: "GET", path: "/api/v1/bots/count") else {
            Issue.record("no match")
            return
        }
        #expect(route.pattern == "/api/v1/bots/count")
        #expect(parameters.isEmpty)
    }

    @Test func parametersArePercentDecodedAndMustBeValid() {
        let router = APIRouter([Self.route("POST", "/api/v1/users/{user_id}/disconnect")])
        guard case .route(_, let parameters) = router.match(method: "POST", path: "/api/v1/users/a%20b/disconnect") else {
            Issue.record("no match")
            return
        }
        #expect(parameters["user_id"] == "a b")
        if case .route = router.match(method: "POST", path: "/api/v1/users/%zz/disconnect") { Issue.record("bad escape matched") }
    }

    @Test func aKnownPathWithAnotherMethodListsTheAllowedOnes() {
        let router = APIRouter([Self.route("POST", "/api/v1/bots"), Self.route("GET", "/api/v1/bots")])
        guard case .methodNotAllowed(let allowed) = router.match(method: "DELETE", path: "/api/v1/bots") else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == ["GET", "POST"])
        if case .notFound = router.match(method: "GET", path: "/api/v1/bots/x/y") {} else { Issue.record("expected 404") }
    }

    @Test func duplicateRoutesKeepTheFirst() {
        let router = APIRouter([Self.route("POST", "/api/v1/x/{a}"), Self.route("POST", "/api/v1/x/{b}")])
        #expect(router.all.count == 1)
        #expect(router.duplicates == ["POST /api/v1/x/{b}"])
    }

    @Test func problemsAreRFC9457Bodies() throws {
        let response = APIProblem.badRequest("name: required field is missing").response(instance: "/api/v1/bots")
        #expect(response.status == 400)
        #expect(response.contentType == "application/problem+json")
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(text.contains(#""type":"about:blank""#))
        #expect(text.contains(#""status":400"#))
        #expect(text.contains(#""detail":"name: required field is missing""#))
    }

    @Test func requestBodiesDecodeWithFieldNamedErrors() {
        struct Body: Decodable { var name: String }
        let request = APIRequest(method: "POST", path: "/", body: Array(#"{"name": 5}"#.utf8), clientId: "c", scopes: [], requestId: "r")
        #expect(throws: APIProblem.self) { try request.decode(Body.self) }
        do {
            _ = try request.decode(Body.self)
        } catch {
            #expect(error.detail.contains("name"))
        }
    }
}
