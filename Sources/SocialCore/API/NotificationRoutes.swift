import SocialProtocol

/// `POST /api/v1/notifications` (scope `social:notify`): a backend notifies
/// one or many users. Body: `NotificationCreateBody`; reply `201` with one
/// result per user (`200` when every user's key was used before).
public enum NotificationRoutes {
    public static func routes(_ service: NotificationService) -> [APIRoute] {
        [
            APIRoute("POST", "/api/v1/notifications", scope: APIScope.notify) { request in
                try await create(request, service)
            },
            APIRoute("GET", "/api/v1/users/{user_id}/notifications", scope: APIScope.notify) { request in
                try await inbox(request, service)
            },
        ]
    }

    /// `GET /api/v1/users/{user_id}/notifications?limit=&before=`: a user's inbox
    /// as the backend sees it, newest first, with each push outcome.
    static func inbox(_ request: APIRequest, _ service: NotificationService) async throws -> APIResponse {
        let user = request.parameter("user_id")
        guard (1...128).contains(user.unicodeScalars.count) else { throw APIProblem.badRequest("user_id: 1 to 128 code points") }
        func number(_ name: String) throws -> Int64? {
            guard let text = request.query[name] else { return nil }
            guard let value = Int64(text), value >= 1 else { throw APIProblem.badRequest("\(name): a positive integer") }
            return value
        }
        let limit = Int(min(try number("limit") ?? Int64(service.limits.defaultListLimit), Int64(service.limits.maxListLimit)))
        let page: [Notification]
        do {
            page = try await service.store.notifications(of: user, before: try number("before"), unreadOnly: false,
                                                         limit: limit, now: service.clock())
        } catch let error as StoreError {
            throw APIProblem.unavailable("the store is unavailable: \(error.message)")
        }
        return .json(200, NotificationInboxReply(notifications: page.map {
            NotificationInboxReply.Item(notification: $0.wire, push: $0.push.rawValue, held: $0.held)
        }))
    }

    static func create(_ request: APIRequest, _ service: NotificationService) async throws -> APIResponse {
        let results = try await create(try request.decode(NotificationCreateBody.self), service)
        return .json(results.contains(where: \.created) ? 201 : 200, NotificationCreateReply(results: results))
    }

    /// What an asynchronous ingest (the Redis stream) does with one entry.
    public enum IngestOutcome: Sendable, Equatable {
        /// Stored for every user (or already there): acknowledge it.
        case stored
        /// Never storable (bad JSON, invalid fields): acknowledge it and log `reason`.
        case rejected(String)
        /// The store failed: leave it unacknowledged and try again later.
        case retry(String)
    }

    /// Creates the notification in `body` (the JSON of `POST /api/v1/notifications`).
    public static func ingest(_ body: [UInt8], _ service: NotificationService) async -> IngestOutcome {
        do {
            let decoded = try APIRequest(method: "POST", path: "/api/v1/notifications", body: body, clientId: "stream",
                                         scopes: [APIScope.notify], requestId: "stream").decode(NotificationCreateBody.self)
            _ = try await create(decoded, service)
            return .stored
        } catch let problem as APIProblem where problem.status == 400 {
            return .rejected(problem.detail)
        } catch let problem as APIProblem {
            return .retry(problem.detail)
        } catch {
            return .retry("\(error)")
        }
    }

    static func create(_ body: NotificationCreateBody, _ service: NotificationService) async throws
        -> [NotificationCreateReply.Result] {
        guard let priority = NotificationPriority(rawValue: body.priority ?? "normal") else {
            throw APIProblem.badRequest("priority: must be normal or high")
        }
        let draft = NotificationDraft(type: body.type, title: body.title, body: body.body ?? "", data: body.data,
                                      priority: priority, expiresAt: body.expiresAt, key: body.idempotencyKey)
        let created: [NotificationService.Created]
        do {
            created = try await service.create(draft, for: body.userIds)
        } catch let error as NotificationError {
            throw APIProblem.badRequest(error.message)
        } catch let error as StoreError {
            throw APIProblem.unavailable("the store is unavailable, retry with the same idempotency_key: \(error.message)")
        }
        return created.map {
            NotificationCreateReply.Result(userId: $0.notification.userId, id: $0.notification.id,
                                           created: $0.outcome != .duplicate, delivery: $0.outcome.rawValue)
        }
    }
}

/// The reply of `GET /api/v1/users/{user_id}/notifications`.
public struct NotificationInboxReply: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        public var notification: WireNotification
        /// `pending`, `sent`, `failed`, `skipped` or `held`.
        public var push: String
        /// Still waiting for the end of the user's training.
        public var held: Bool
    }

    public var notifications: [Item]
}

/// The body of `POST /api/v1/notifications`.
public struct NotificationCreateBody: Codable, Sendable, Equatable {
    public var userIds: [String]
    public var type: String
    public var title: String
    public var body: String?
    public var data: JSONValue?
    /// `normal` (default) or `high`.
    public var priority: String?
    /// Milliseconds since 1970.
    public var expiresAt: Int64?
    /// Retries with the same key create nothing new (per user).
    public var idempotencyKey: String?

    public init(userIds: [String], type: String, title: String, body: String? = nil, data: JSONValue? = nil,
                priority: String? = nil, expiresAt: Int64? = nil, idempotencyKey: String? = nil) {
        self.userIds = userIds
        self.type = type
        self.title = title
        self.body = body
        self.data = data
        self.priority = priority
        self.expiresAt = expiresAt
        self.idempotencyKey = idempotencyKey
    }

    enum CodingKeys: String, CodingKey {
        case userIds = "user_ids", type, title, body, data, priority, expiresAt = "expires_at",
             idempotencyKey = "idempotency_key"
    }
}

/// The reply of `POST /api/v1/notifications`: one result per user, in the order given.
public struct NotificationCreateReply: Codable, Sendable, Equatable {
    public struct Result: Codable, Sendable, Equatable {
        public var userId: String
        /// The notification's id in the user's inbox (the original one for a retry).
        public var id: Int64
        /// False when the idempotency key was used before for this user.
        public var created: Bool
        /// `live`, `held`, `push`, `expired` or `duplicate`.
        public var delivery: String

        enum CodingKeys: String, CodingKey { case userId = "user_id", id, created, delivery }
    }

    public var results: [Result]
}
