import Foundation
import SocialLWS
import SocialTesting

/// Shared pieces of the integration tests: one token minter (HS256 secret and
/// RS256/ES256 key pairs), one client loop, and gateway processes started per test.
enum Fixture {
    static let secret = "integration-secret-0123456789abcdef"

    /// The minter, made once (its RSA key takes a moment). Tests read it
    /// through `prepare()`, never by blocking a thread on a task.
    static var minter: TokenMinter { storedMinter! }
    nonisolated(unsafe) static var storedMinter: TokenMinter?

    /// Makes the minter and its JWKS file once; every test's init awaits it.
    static func prepare() async throws {
        try await MinterCache.shared.ensure()
    }

    /// The JWKS file of the minter's public keys.
    static let jwksPath: String = {
        let path = RepoPaths.temporaryDirectory(prefix: "jwks") + "/jwks.json"
        _ = FileManager.default.createFile(atPath: path, contents: Data(minter.jwks()!.utf8))
        return path
    }()

    static let loop: WebSocketClientLoop = try! WebSocketClientLoop(deflate: false, maxConnections: 4096)
    static let deflateLoop: WebSocketClientLoop = try! WebSocketClientLoop(deflate: true, maxConnections: 256)

    /// A gateway on the embedded store, trusting the minter's secret and keys.
    static func gateway(_ arguments: [String] = [], dataDir: String? = nil, port: Int? = nil) throws -> GatewayProcess {
        try GatewayProcess.start(secret: secret, arguments: ["--jwt-public-keys", jwksPath] + arguments,
                                 dataDir: dataDir, port: port)
    }

    static func token(_ user: String, device: String? = nil) -> String {
        minter.token(user: user, extra: device.map { ["did": $0] } ?? [:])
    }

    /// A connected client for `user`, past the `hello` event.
    static func client(_ gateway: GatewayProcess, _ user: String, device: String = "phone",
                       loop: WebSocketClientLoop = Fixture.loop) throws -> TestClient {
        let client = try TestClient.connect(loop, port: gateway.port, token: minter.token(user: user),
                                            query: "?device_id=\(device)")
        guard client.event("hello") != nil else { throw MinterError("no hello from the gateway") }
        return client
    }
}

/// Makes the shared minter exactly once, however many tests start at once.
actor MinterCache {
    static let shared = MinterCache()
    private var task: Task<TokenMinter, any Error>?

    func ensure() async throws {
        if task == nil {
            task = Task { try await TokenMinter.make(secret: Fixture.secret, withKeyPairs: true) }
        }
        let minter = try await task!.value
        if Fixture.storedMinter == nil { Fixture.storedMinter = minter }
    }
}
