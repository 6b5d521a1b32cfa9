/// Finds the route of a backend API request among a list of `APIRoute`s,
/// which several features contribute (bots, force-disconnect, notifications).
/// Pure value; no I/O, so it is tested without sockets. Immutable after init:
/// any thread may call `match`.
public struct APIRouter: Sendable {
    /// What a method and path resolve to.
    public enum Match: Sendable {
        /// A route matches; `parameters` holds its `{name}` segments, percent-decoded.
        case route(APIRoute, parameters: [String: String])
        /// The path exists, but not with this method: the methods it has (for `Allow`).
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private let routes: [(route: APIRoute, segments: [Segment])]

    private enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    /// - Parameters:
    ///   - routes: every endpoint; on two routes with the same method and
    ///     pattern, the first wins (`duplicates` names the others for the start-up log).
    public init(_ routes: [APIRoute]) {
        var kept: [(APIRoute, [Segment])] = []
        var seen: Set<String> = []
        var duplicates: [String] = []
        for route in routes {
            let segments = Self.split(route.pattern).map { part -> Segment in
                if part.hasPrefix("{"), part.hasSuffix("}") { return .parameter(String(part.dropFirst().dropLast())) }
                return .literal(String(part))
            }
            // `{a}` and `{b}` in the same place are the same shape.
            let shape = route.method.uppercased() + " " + segments.map {
                if case .literal(let text) = $0 { text } else { "{}" }
            }.joined(separator: "/")
            if !seen.insert(shape).inserted {
                duplicates.append("\(route.method) \(route.pattern)")
                continue
            }
            kept.append((route, segments))
        }
        self.routes = kept
        self.duplicates = duplicates
    }

    /// Routes dropped because an earlier one has the same method and pattern.
    public let duplicates: [String]

    /// Every route kept, in order.
    public var all: [APIRoute] { routes.map(\.route) }

    /// The route for `method` and `path` (no query string). Literal segments
    /// win over parameters, so `/bots/{id}` does not hide `/bots/count`.
    public func match(method: String, path: String) -> Match {
        let parts = Self.split(path)
        var allowed: [String] = []
        var best: (route: APIRoute, parameters: [String: String], literals: Int)?
        for (route, segments) in routes {
            guard let (parameters, literals) = Self.bind(segments, to: parts) else { continue }
            guard route.method.uppercased() == method.uppercased() else {
                if !allowed.contains(route.method.uppercased()) { allowed.append(route.method.uppercased()) }
                continue
            }
            if best == nil || literals > best!.literals { best = (route, parameters, literals) }
        }
        if let best { return .route(best.route, parameters: best.parameters) }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed.sorted())
    }

    private static func bind(_ segments: [Segment], to parts: [Substring]) -> ([String: String], Int)? {
        guard segments.count == parts.count else { return nil }
        var parameters: [String: String] = [:]
        var literals = 0
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text):
                guard part == text else { return nil }
                literals += 1
            case .parameter(let name):
                guard let decoded = percentDecoded(part), !decoded.isEmpty else { return nil }
                parameters[name] = decoded
            }
        }
        return (parameters, literals)
    }

    private static func split(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    /// `%XX` escapes decoded as UTF-8; nil for a malformed escape or invalid UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func plusAsSpace(_ text: Substring) -> Substring {
        Substring(String(text.map { $0 == "+" ? " " : $0 }))
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// `a=1&b=x%20y` as a dictionary (the last of a repeated name wins; `+` is a space).
    public static func parseQuery(_ query: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = plusAsSpace(parts[0])
            let raw = parts.count > 1 ? plusAsSpace(parts[1]) : ""
            result[percentDecoded(name) ?? String(name)] = percentDecoded(raw) ?? String(raw)
        }
        return result
    }
}
