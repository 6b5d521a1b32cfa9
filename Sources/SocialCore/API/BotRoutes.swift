import SocialProtocol

/// The bot-account endpoints (scope `social:admin`): create, list, read,
/// disable, rotate the secret. A secret is shown once, in the answer that
/// made it; the store keeps only its hash.
///
/// A change reaches the handshakes of this node at once (`changed`), those of
/// the other nodes at their next refresh (`--bot-refresh-seconds`); live
/// sessions of a disabled or rotated bot are closed on every node at once
/// through the bus (4003).
public struct BotRoutes: Sendable {
    /// Makes and hashes secrets (SocialAuth's `BotCredentials` in production).
    public struct Secrets: Sendable {
        public var make: @Sendable () -> String
        public var hash: @Sendable (String) -> String
        public init(make: @escaping @Sendable () -> String, hash: @escaping @Sendable (String) -> String) {
            self.make = make
            self.hash = hash
        }
    }

    let store: any BotStore
    let bus: any EventBus
    let secrets: Secrets
    let clock: @Sendable () -> Int64
    let changed: @Sendable (BotAccount) -> Void

    /// - Parameters:
    ///   - store: where bots persist.
    ///   - bus: carries the disconnect of a disabled or rotated bot to every node.
    ///   - secrets: makes and hashes secrets.
    ///   - clock: milliseconds since 1970.
    ///   - changed: called after each change, to update this node's handshake directory.
    public init(store: any BotStore, bus: any EventBus, secrets: Secrets, clock: @escaping @Sendable () -> Int64,
                changed: @escaping @Sendable (BotAccount) -> Void) {
        self.store = store
        self.bus = bus
        self.secrets = secrets
        self.clock = clock
        self.changed = changed
    }

    public var routes: [APIRoute] {
        [
            APIRoute("POST", "/api/v1/bots", scope: APIScope.admin) { try await create($0) },
            APIRoute("GET", "/api/v1/bots", scope: APIScope.admin) { _ in try await list() },
            APIRoute("GET", "/api/v1/bots/{bot_id}", scope: APIScope.admin) { try await show($0) },
            APIRoute("POST", "/api/v1/bots/{bot_id}/disable", scope: APIScope.admin) { try await disable($0) },
            APIRoute("POST", "/api/v1/bots/{bot_id}/secret", scope: APIScope.admin) { try await rotate($0) },
        ]
    }

    struct CreateBody: Decodable {
        var name: String
        var scopes: [String]?
    }

    func create(_ request: APIRequest) async throws -> APIResponse {
        let body = try request.decode(CreateBody.self)
        let name = body.name.trimmingWhitespace()
        // Code points, as JSON Schema's maxLength counts them (protocol/openapi.yaml).
        guard !name.isEmpty, body.name.unicodeScalars.count <= 64 else {
            throw APIProblem.badRequest("name: 1-64 code points, not only whitespace")
        }
        let scopes = body.scopes ?? BotScope.all
        if let unknown = scopes.first(where: { !BotScope.all.contains($0) }) {
            throw APIProblem.badRequest("scopes: unknown scope \(unknown); known: \(BotScope.all.joined(separator: ", "))")
        }
        let secret = secrets.make()
        let now = clock()
        let bot = BotAccount(id: Self.makeId(), name: name, scopes: Array(Set(scopes)).sorted(), secretHash: secrets.hash(secret),
                             createdAt: now, updatedAt: now, createdBy: request.clientId)
        try await call { try await store.createBot(bot) }
        changed(bot)
        return .json(201, BotWithSecret(bot: WireBot(bot), secret: secret))
    }

    func list() async throws -> APIResponse {
        let bots = try await call { try await store.bots() }
        return .json(200, BotList(bots: bots.map(WireBot.init)))
    }

    func show(_ request: APIRequest) async throws -> APIResponse {
        .json(200, BotOnly(bot: WireBot(try await existing(request.parameter("bot_id")))))
    }

    func disable(_ request: APIRequest) async throws -> APIResponse {
        var bot = try await existing(request.parameter("bot_id"))
        if !bot.disabled {
            bot.disabled = true
            bot.updatedAt = clock()
            try await call { try await store.updateBot(bot) }
            changed(bot)
        }
        disconnect(bot, "bot disabled")
        return .json(200, BotOnly(bot: WireBot(bot)))
    }

    func rotate(_ request: APIRequest) async throws -> APIResponse {
        var bot = try await existing(request.parameter("bot_id"))
        guard !bot.disabled else { throw APIProblem.conflict("bot \(bot.id) is disabled") }
        let secret = secrets.make()
        bot.secretHash = secrets.hash(secret)
        bot.updatedAt = clock()
        try await call { try await store.updateBot(bot) }
        changed(bot)
        disconnect(bot, "bot secret rotated")
        return .json(200, BotWithSecret(bot: WireBot(bot), secret: secret))
    }

    private func existing(_ id: String) async throws -> BotAccount {
        guard let bot = try await call({ try await store.bot(id) }) else { throw APIProblem.notFound("no bot \(id)") }
        return bot
    }

    /// Sessions holding the old credential close on every node.
    private func disconnect(_ bot: BotAccount, _ reason: String) {
        bus.publish([BusEvent(topic: .user(bot.id), frame: [], disconnect: reason)], trace: RequestContext.trace)
    }

    private func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw APIProblem.from(error)
        }
    }

    static func makeId() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return "bot_" + String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}

/// A bot as the API shows it (never its secret hash).
struct WireBot: Encodable {
    let id: String
    let name: String
    let scopes: [String]
    let disabled: Bool
    let createdAt: Int64
    let updatedAt: Int64
    let createdBy: String

    init(_ bot: BotAccount) {
        id = bot.id
        name = bot.name
        scopes = bot.scopes
        disabled = bot.disabled
        createdAt = bot.createdAt
        updatedAt = bot.updatedAt
        createdBy = bot.createdBy
    }

    enum CodingKeys: String, CodingKey {
        case id, name, scopes, disabled, createdAt = "created_at", updatedAt = "updated_at", createdBy = "created_by"
    }
}

struct BotOnly: Encodable { let bot: WireBot }
struct BotList: Encodable { let bots: [WireBot] }
struct BotWithSecret: Encodable {
    let bot: WireBot
    let secret: String
}
