/// The REST proxy's upstreams, allowlist and limits. Built from the
/// gateway's `--upstream*` and `--proxy-*` flags (see README.md).
public struct ProxySettings: Sendable, Equatable {
    /// The configured services by name.
    public var upstreams: [String: Upstream] = [:]
    /// What each service may be sent; a service without rules gets nothing.
    public var rules: [String: [AllowRule]] = [:]
    /// Milliseconds a TCP connect to an upstream may take.
    public var connectTimeoutMs = 1000
    /// Milliseconds a whole call may take, from the command to the last response byte (queueing included).
    public var timeoutMs = 5000
    /// Largest response body accepted, bytes; a larger one gets `too_large`.
    public var maxResponseBytes = 262_144
    /// Calls one user may have in flight at once on this node; more get `overloaded`.
    public var maxPerUser = 4
    /// Consecutive failures (no response, a timeout, a 5xx) that open a service's breaker.
    public var breakerFailures = 5
    /// Milliseconds an open breaker refuses calls before letting one trial call through.
    public var breakerOpenMs = 10_000
    /// Threads making upstream calls (calls in flight at once on this node); at most 4 × this wait for one.
    public var workers = 32
    /// Idle keep-alive connections kept per upstream.
    public var idleConnectionsPerUpstream = 16

    public init() {}

    /// The settings with the upstreams and rules read from flag values.
    /// - Parameters:
    ///   - upstreams: `name=http://host[:port][/base]` items.
    ///   - allow: `name=METHOD[,METHOD]:/prefix[,/prefix]` items; several per service add up.
    public init(upstreams: [String], allow: [String]) throws(ProxySettingsError) {
        for item in upstreams {
            let (name, value) = try Self.split(item, flag: "--upstream")
            guard self.upstreams[name] == nil else { throw ProxySettingsError("--upstream \(name) is given twice") }
            self.upstreams[name] = try Upstream(name: name, url: value)
        }
        for item in allow {
            let (name, value) = try Self.split(item, flag: "--upstream-allow")
            guard self.upstreams[name] != nil else {
                throw ProxySettingsError("--upstream-allow \(name): no --upstream \(name)=http://… is configured")
            }
            rules[name, default: []].append(try AllowRule(value))
        }
    }

    private static func split(_ item: String, flag: String) throws(ProxySettingsError) -> (String, String) {
        guard let equals = item.firstIndex(of: "=") else { throw ProxySettingsError("\(flag) \(item): expected name=value") }
        let name = String(item[..<equals])
        guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy({ isNameByte($0) }) else {
            throw ProxySettingsError("\(flag) \(item): the service name must be [a-z0-9_-]{1,64}")
        }
        return (name, String(item[item.index(after: equals)...]))
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F || byte == 0x2D
    }
}

/// A REST service the proxy forwards to: plain HTTP/1.1 inside the cluster.
public struct Upstream: Sendable, Equatable {
    public var name: String
    public var host: String
    public var port: Int
    /// Prepended to every forwarded path (no trailing slash; empty for none).
    public var basePath: String

    /// - Parameter url: `http://host[:port][/base]`; no query, no user info, no `https` (terminate TLS in a sidecar).
    public init(name: String, url: String) throws(ProxySettingsError) {
        self.name = name
        guard url.hasPrefix("http://") else {
            throw ProxySettingsError("--upstream \(name)=\(url): only http:// upstreams are supported")
        }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        var base = String(rest.dropFirst(authority.count))
        while base.hasSuffix("/") { base.removeLast() }
        guard !authority.isEmpty, !authority.contains("@"), !base.contains("?"), !base.contains("%"),
              base.isEmpty || (try? ProxyPath(base))?.path == base else {
            throw ProxySettingsError("--upstream \(name)=\(url): expected http://host[:port][/base]")
        }
        var host = String(authority)
        var port = 80
        if host.hasPrefix("[") {  // [v6]:port
            guard let close = host.firstIndex(of: "]") else { throw ProxySettingsError("--upstream \(name): bad IPv6 address") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { throw ProxySettingsError("--upstream \(name): bad port") }
                port = p
            } else if !after.isEmpty {
                throw ProxySettingsError("--upstream \(name): bad address")
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.firstIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else { throw ProxySettingsError("--upstream \(name): bad port") }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty, (1...65535).contains(port) else {
            throw ProxySettingsError("--upstream \(name)=\(url): bad host or port")
        }
        self.host = host
        self.port = port
        self.basePath = base
    }

    /// The `Host` header value.
    var hostHeader: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? shown : "\(shown):\(port)"
    }
}

/// Methods allowed on paths under some prefixes of one service.
public struct AllowRule: Sendable, Equatable {
    /// The methods this rule allows.
    public var methods: Set<String>
    /// Path prefixes, whole segments: `/v1/workouts` allows `/v1/workouts` and `/v1/workouts/42`, not `/v1/workoutsX`.
    public var prefixes: [String]

    /// The methods the proxy forwards at all.
    public static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]

    /// - Parameter text: `GET,POST:/v1/workouts,/v1/plans`.
    public init(_ text: String) throws(ProxySettingsError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw ProxySettingsError("--upstream-allow \(text): expected METHOD[,METHOD]:/prefix[,/prefix]")
        }
        methods = Set(text[..<colon].split(separator: ",").map { String($0) })
        prefixes = text[text.index(after: colon)...].split(separator: ",").map { String($0) }
        guard !methods.isEmpty, methods.isSubset(of: Self.knownMethods) else {
            throw ProxySettingsError("--upstream-allow \(text): methods must be among \(Self.knownMethods.sorted().joined(separator: ","))")
        }
        guard !prefixes.isEmpty else { throw ProxySettingsError("--upstream-allow \(text): no path prefix") }
        for (index, prefix) in prefixes.enumerated() {
            var clean = prefix
            while clean.count > 1, clean.hasSuffix("/") { clean.removeLast() }
            // A prefix obeys the rules of the paths it is compared with.
            guard clean.hasPrefix("/"), (try? ProxyPath(clean))?.path == clean, !clean.contains("?") else {
                throw ProxySettingsError("--upstream-allow \(text): \(prefix) is not a clean absolute path")
            }
            prefixes[index] = clean
        }
    }

    /// Whether this rule lets `method` reach `path` (a validated path, without its query).
    public func allows(_ method: String, _ path: String) -> Bool {
        guard methods.contains(method) else { return false }
        return prefixes.contains { prefix in
            prefix == "/" || path == prefix || path.hasPrefix(prefix + "/")
        }
    }
}

/// A proxy setting that cannot be used: the message names the flag.
public struct ProxySettingsError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
