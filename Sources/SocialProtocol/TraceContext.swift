/// Where a span sits in a distributed trace: what a W3C `traceparent`
/// carries (https://www.w3.org/TR/trace-context/), `00-<trace-id>-<parent-id>-<flags>`.
///
/// `spanId` is the span of whoever made the context: in a context read from a
/// caller, the caller's span (the header calls it parent-id); in one the
/// gateway sends on, the gateway's own span, the parent of the next hop's.
///
/// Parsed and formatted by hand (no allocation to parse; `traceparent`
/// allocates its one string): a client command, a bus event and an outgoing
/// HTTP call each read or write one. The parser is strict as the
/// specification asks: lowercase hex only, all-zero ids refused, version
/// `ff` refused; a later version is read by its version-00 prefix, as the
/// specification asks of a version-00 reader, and sent on as version 00.
public struct TraceContext: Sendable, Hashable {
    public var traceId: TraceID
    public var spanId: SpanID
    /// The trace flags; only `sampled` (bit 0) is defined and kept.
    public var flags: UInt8

    /// `flags` with the sampled bit: the caller may have recorded this trace.
    public static let sampled: UInt8 = 0x01

    public init(traceId: TraceID, spanId: SpanID, flags: UInt8) {
        self.traceId = traceId
        self.spanId = spanId
        self.flags = flags & Self.sampled
    }

    /// Whether the sampled flag is set.
    public var isSampled: Bool { flags & Self.sampled != 0 }

    /// Reads a `traceparent` value; nil when it is not a valid one (the
    /// caller then ignores it and starts a trace of its own).
    public init?(traceparent text: some StringProtocol) {
        let parsed = text.utf8.withContiguousStorageIfAvailable { Self(traceparentBytes: $0) }
        guard let context = parsed ?? Self(traceparentBytes: Array(text.utf8)) else { return nil }
        self = context
    }

    /// Reads a `traceparent` value from its bytes; nil when it is not a valid one.
    public init?<Bytes: RandomAccessCollection>(traceparentBytes bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count >= Self.length else { return nil }
        let start = bytes.startIndex
        func at(_ offset: Int) -> UInt8 { bytes[bytes.index(start, offsetBy: offset)] }
        func hex(_ offset: Int, _ count: Int) -> UInt64? {
            var value: UInt64 = 0
            for i in offset..<(offset + count) {
                guard let digit = Self.digit(at(i)) else { return nil }
                value = value << 4 | UInt64(digit)
            }
            return value
        }
        guard let version = hex(0, 2), version != 0xFF,
              at(2) == Self.dash, at(35) == Self.dash, at(52) == Self.dash,
              let high = hex(3, 16), let low = hex(19, 16), let span = hex(36, 16), let flags = hex(53, 2),
              high != 0 || low != 0, span != 0 else { return nil }
        // Version 00 is exactly 55 characters; a later one may go on after a dash.
        if bytes.count > Self.length, version == 0 || at(Self.length) != Self.dash { return nil }
        self.init(traceId: TraceID(high: high, low: low), spanId: SpanID(span), flags: UInt8(flags))
    }

    /// The `traceparent` value, version 00.
    public var traceparent: String {
        String(unsafeUninitializedCapacity: Self.length) { write(into: $0) }
    }

    /// Appends the `traceparent` value's 55 bytes to `bytes` (the bus header writes it so).
    public func appendTraceparent(to bytes: inout [UInt8]) {
        let count = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: Self.length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            _ = write(into: UnsafeMutableBufferPointer(rebasing: buffer[count...]))
        }
    }

    /// Writes the 55 bytes of the `traceparent` value at the start of `buffer`; returns 55.
    private func write(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        buffer[0] = UInt8(ascii: "0"); buffer[1] = UInt8(ascii: "0"); buffer[2] = Self.dash
        var i = 3
        Hex.write(traceId.high, digits: 16, into: buffer, at: &i)
        Hex.write(traceId.low, digits: 16, into: buffer, at: &i)
        buffer[i] = Self.dash; i += 1
        Hex.write(spanId.value, digits: 16, into: buffer, at: &i)
        buffer[i] = Self.dash; i += 1
        Hex.write(UInt64(flags), digits: 2, into: buffer, at: &i)
        return i
    }

    /// The length of a version-00 `traceparent`.
    public static let length = 55

    private static let dash = UInt8(ascii: "-")

    /// A lowercase hex digit's value (uppercase is not valid in a `traceparent`).
    private static func digit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c &- UInt8(ascii: "a") &+ 10
        default: return nil
        }
    }
}

/// A trace's id: 16 bytes, never all zero; written as 32 lowercase hex digits.
public struct TraceID: Sendable, Hashable, CustomStringConvertible {
    /// The first 8 bytes, big-endian.
    public var high: UInt64
    /// The last 8 bytes, big-endian.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// 32 lowercase hex digits: the form logs (`trace_id`) and tracing backends show.
    public var description: String { Hex.string(high, low) }
}

/// A span's id: 8 bytes, never all zero; written as 16 lowercase hex digits.
public struct SpanID: Sendable, Hashable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    public var description: String { Hex.string(value) }
}

/// Lowercase hex digits written into buffers, without a formatter.
private enum Hex {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes the low `digits` hex digits of `value` at `buffer[i...]` and advances `i`.
    static func write(_ value: UInt64, digits count: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at i: inout Int) {
        for shift in stride(from: (count - 1) * 4, through: 0, by: -4) {
            buffer[i] = digits[Int(truncatingIfNeeded: value >> UInt64(shift) & 0xF)]
            i += 1
        }
    }

    /// `values` as 16 hex digits each.
    static func string(_ first: UInt64, _ second: UInt64? = nil) -> String {
        String(unsafeUninitializedCapacity: second == nil ? 16 : 32) { buffer in
            var i = 0
            write(first, digits: 16, into: buffer, at: &i)
            if let second { write(second, digits: 16, into: buffer, at: &i) }
            return i
        }
    }
}
