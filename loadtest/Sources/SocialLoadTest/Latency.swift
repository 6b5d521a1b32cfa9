import Histogram

/// A latency distribution in microseconds (HDR histogram, 3 significant
/// digits, up to one hour). It travels between worker processes as the
/// compact list of its non-empty buckets, so that the coordinator can merge
/// the workers' histograms exactly.
struct Latency: Codable {
    private(set) var histogram: Histogram<UInt64>
    private static let highestMicros: UInt64 = 3_600_000_000

    init(digits: SignificantDigits = .three) { histogram = Self.empty(digits) }

    private static func empty(_ digits: SignificantDigits) -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: highestMicros,
                          numberOfSignificantValueDigits: digits)
    }

    var count: UInt64 { histogram.totalCount }

    mutating func record(nanoseconds: UInt64) {
        _ = histogram.record(min(Self.highestMicros, max(1, nanoseconds / 1000)))
    }

    mutating func add(_ other: Latency) { histogram.add(other.histogram) }

    /// The value at `percentile` (0–100) in milliseconds; 0 when empty.
    func ms(_ percentile: Double) -> Double {
        count == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    var maxMs: Double { count == 0 ? 0 : Double(histogram.max) / 1000 }

    /// p50, p90, p99, p99.9 and max in milliseconds, with the count.
    var summary: [String: Double] {
        ["count": Double(count), "p50": ms(50), "p90": ms(90), "p99": ms(99), "p99_9": ms(99.9), "max": maxMs]
    }

    // MARK: Codable as (value, count) pairs

    private enum Keys: String, CodingKey { case digits, values, counts }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let digits = SignificantDigits(rawValue: try c.decode(Int8.self, forKey: .digits)) ?? .three
        histogram = Self.empty(digits)
        let values = try c.decode([UInt64].self, forKey: .values)
        let counts = try c.decode([UInt64].self, forKey: .counts)
        for (value, n) in zip(values, counts) { _ = histogram.record(value, count: n) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        var values: [UInt64] = []
        var counts: [UInt64] = []
        for bucket in histogram.recordedValues() {
            values.append(histogram.medianEquivalentForValue(bucket.value))
            counts.append(bucket.count)
        }
        try c.encode(histogram.numberOfSignificantValueDigits.rawValue, forKey: .digits)
        try c.encode(values, forKey: .values)
        try c.encode(counts, forKey: .counts)
    }
}
