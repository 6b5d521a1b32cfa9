/// One rate: a sustained number of commands per second and a burst (the
/// bucket's size, what an idle client may send at once).
///
/// Written `<count>/s` or `<count>/m`, optionally followed by `,burst=<n>`
/// (`20/s,burst=40`, `30/m`); without a burst, the bucket holds one second's
/// (or one minute's) count. `off` means no limit.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    /// Tokens added per second.
    public var perSecond: Double
    /// Most tokens the bucket holds (at least 1).
    public var burst: Double

    /// - Parameters:
    ///   - perSecond: the sustained rate, above 0.
    ///   - burst: the bucket's size; raised to 1 when smaller.
    public init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = max(1, burst)
    }

    /// Reads the flag syntax; nil for `off`. Throws a `RateLimitSyntaxError` naming what is wrong.
    public static func parse(_ text: String) throws -> RateLimit? {
        let trimmed = text.trimmingWhitespace().lowercased()
        if trimmed == "off" { return nil }
        let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        let rate = parts[0].split(separator: "/", omittingEmptySubsequences: false)
        guard rate.count == 2, let count = Double(rate[0]), count > 0, count.isFinite else {
            throw RateLimitSyntaxError(text, "expected <count>/s or <count>/m, or off")
        }
        let perSecond: Double
        switch rate[1] {
        case "s": perSecond = count
        case "m": perSecond = count / 60
        default: throw RateLimitSyntaxError(text, "the unit is s (per second) or m (per minute)")
        }
        var burst = count
        for option in parts.dropFirst() {
            guard option.hasPrefix("burst="), let value = Double(option.dropFirst("burst=".count)), value >= 1,
                  value.isFinite else {
                throw RateLimitSyntaxError(text, "after the rate, only burst=<n> (n ≥ 1) may follow")
            }
            burst = value
        }
        return RateLimit(perSecond: perSecond, burst: burst)
    }

    /// The flag syntax of this rate (`20/s,burst=40`).
    public var description: String {
        "\(Self.number(perSecond))/s,burst=\(Self.number(burst))"
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// A rate setting that does not parse.
public struct RateLimitSyntaxError: Error, CustomStringConvertible {
    public let description: String
    init(_ text: String, _ why: String) { description = "\"\(text)\": \(why)" }
}
