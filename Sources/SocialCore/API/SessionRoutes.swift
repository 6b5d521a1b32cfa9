/// `POST /api/v1/users/{user_id}/disconnect`: closes every session of a user
/// on every node with 4003 `forcedDisconnect`. The node that takes the call
/// publishes a control event on the user's bus topic; each node closes the
/// sessions it holds when the event arrives (a node that has none ignores it).
public enum SessionRoutes {
    /// The longest close reason: a WebSocket close frame carries at most 123 bytes of it.
    public static let maxReasonBytes = 120

    public static func routes(bus: any EventBus) -> [APIRoute] {
        [
            APIRoute("POST", "/api/v1/users/{user_id}/disconnect", scope: APIScope.admin) { request in
                let body = try request.decode(DisconnectBody.self)
                let user = request.parameter("user_id")
                let reason = body.reason ?? "disconnected by the service"
                guard reason.utf8.count <= maxReasonBytes else {
                    throw APIProblem.badRequest("reason: at most \(maxReasonBytes) UTF-8 bytes (it has \(reason.utf8.count))")
                }
                guard user.utf8.count <= 128 else { throw APIProblem.badRequest("user_id: at most 128 bytes") }
                bus.publish([BusEvent(topic: .user(user), frame: [], disconnect: reason)], trace: RequestContext.trace)
                return .json(202, DisconnectAccepted(userId: user, reason: reason))
            },
        ]
    }

    struct DisconnectBody: Decodable {
        var reason: String?
    }

    struct DisconnectAccepted: Encodable {
        var userId: String
        var reason: String
        enum CodingKeys: String, CodingKey {
            case userId = "user_id"
            case reason
        }
    }
}
