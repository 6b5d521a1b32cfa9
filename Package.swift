// swift-tools-version:6.2
import PackageDescription

/// Every module of the gateway compiles in Swift 6 language mode: each C
/// handle stays on the one thread that owns it, moved there through one
/// `@unchecked Sendable` hand-off box (`ThreadHandoff`, SocialCore) or popped
/// from a pool by the worker that uses it (libmongoc). Swift 5 mode is left
/// to the test harness, the tools and some test targets, whose helpers share
/// state with the test that drives them.
let harnessSettings: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "social-gateway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "social-gateway", targets: ["SocialGateway"]),
        .executable(name: "social-cli", targets: ["SocialCLI"]),
        .executable(name: "social-bench", targets: ["SocialBench"]),
        .executable(name: "social-loadtest", targets: ["SocialLoadTest"]),
        .executable(name: "social-blast", targets: ["SocialBlast"]),
        .executable(name: "social-null-gateway", targets: ["SocialNullGateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already built for jwt-kit; named here for SHA-256 (bot secrets) and HMAC.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // System libraries through pkg-config.
        .systemLibrary(name: "CLibWebSockets", pkgConfig: "libwebsockets",
                       providers: [.apt(["libwebsockets-dev"])]),
        .systemLibrary(name: "CMongoC", pkgConfig: "libmongoc-1.0",
                       providers: [.apt(["libmongoc-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis",
                       providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CUV", pkgConfig: "libuv",
                       providers: [.apt(["libuv1-dev"])]),
        // What Swift cannot import: LWS_PRE, callbacks tables, variadics; the libuv service loop.
        .target(name: "CGatewayShims", dependencies: ["CLibWebSockets", "CMongoC", "CUV"]),

        // Wire protocol v1: types and codec. No I/O.
        .target(name: "SocialProtocol"),
        // Domain: groups, chats, sequences, sync, permissions; store and bus protocols; in-memory backends.
        .target(name: "SocialCore", dependencies: [
            "SocialProtocol",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // JWT verification (jwt-kit does the signature checks; claims are read with SocialProtocol's JSON reader).
        .target(name: "SocialAuth", dependencies: [
            "SocialProtocol",
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Outgoing HTTP: the REST proxy to the training and profile services, and the push webhook.
        // URLSession (FoundationNetworking) runs the calls off the lws thread.
        .target(name: "SocialHTTP", dependencies: [
            "SocialCore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // libwebsockets: the epoll service loop, sessions, send queues, HTTP routes, client library.
        // Swift 6 mode: the server is an actor whose executor is its lws service thread.
        .target(name: "SocialLWS", dependencies: [
            "CLibWebSockets", "CGatewayShims", "SocialProtocol", "SocialCore", "SocialAuth",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // Embedded persistent store on libsqlite3.
        .target(name: "SocialSQLite", dependencies: [
            "CSQLite", "SocialCore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // The distributed store: MongoDB through libmongoc, on its own worker threads.
        .target(name: "SocialMongo", dependencies: [
            "CMongoC", "CGatewayShims", "SocialCore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The distributed bus and presence: Redis pub/sub through hiredis, on its own threads.
        .target(name: "SocialRedis", dependencies: [
            "CHiredis", "SocialCore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Test harness: gateway processes, token minting, raw sockets, clients.
        .target(name: "SocialTesting", dependencies: [
            "SocialLWS", "SocialProtocol", "SocialCore",
            .product(name: "JWTKit", package: "jwt-kit"),
        ], swiftSettings: harnessSettings),

        .executableTarget(name: "SocialGateway", dependencies: [
            "SocialLWS", "SocialCore", "SocialAuth", "SocialSQLite", "SocialMongo", "SocialRedis", "SocialHTTP",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .executableTarget(name: "SocialCLI", dependencies: [
            "SocialLWS", "SocialTesting",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: harnessSettings),
        .executableTarget(name: "SocialBench", dependencies: [
            "SocialLWS", "SocialTesting", "SocialProtocol",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: harnessSettings),

        // The load-test driver: scenarios over the lws client library, HDR histograms, JSON and HTML reports.
        .executableTarget(name: "SocialLoadTest", dependencies: [
            "SocialLWS", "SocialTesting", "SocialProtocol",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ], path: "loadtest/Sources/SocialLoadTest", swiftSettings: harnessSettings),
        // The benchmark driver in C: one epoll loop, raw sockets, a minimal WebSocket client, so that
        // the gateway is what is measured on a shared machine. libcrypto mints the HS256 tokens.
        .executableTarget(name: "SocialBlast", path: "loadtest/blast",
                          linkerSettings: [.linkedLibrary("crypto"), .linkedLibrary("pthread"), .linkedLibrary("m")]),
        // A server that does next to nothing, to measure social-blast's own ceiling (not the protocol's reference).
        .executableTarget(name: "SocialNullGateway", path: "loadtest/null-gateway",
                          linkerSettings: [.linkedLibrary("crypto")]),

        .testTarget(name: "SocialHTTPTests", dependencies: ["SocialHTTP", "SocialTesting"]),
        .testTarget(name: "SocialProtocolTests", dependencies: ["SocialProtocol"]),
        .testTarget(name: "SocialCoreTests", dependencies: ["SocialCore", "SocialSQLite", "SocialTesting"]),
        .testTarget(name: "SocialMongoTests", dependencies: ["SocialMongo", "SocialTesting"],
                    swiftSettings: harnessSettings),
        .testTarget(name: "SocialRedisTests", dependencies: ["SocialRedis", "SocialTesting"],
                    swiftSettings: harnessSettings),
        .testTarget(name: "SocialAuthTests", dependencies: ["SocialAuth", "SocialTesting"]),
        .testTarget(name: "SocialLWSTests", dependencies: ["SocialLWS", "SocialAuth", "SocialTesting"],
                    swiftSettings: harnessSettings),
        .testTarget(name: "SocialIntegrationTests", dependencies: [
            "SocialTesting", "SocialLWS", "SocialProtocol",
            "SocialRedis",  // ShardMap: where the sharded tests' chats and users live
        ], swiftSettings: harnessSettings),
    ]
)
