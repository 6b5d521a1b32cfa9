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
    public let traceId: TraceID
    public let spanId: SpanID
    /// The trace flags; only `sampled` (bit 0) is defined and kept.
    public let flags: UInt8

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
        var text = String(text)
        guard let context = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = context
    }

    /// Reads a `traceparent` value from its bytes; nil when it is not a valid one.
    public init?<Bytes: Collection<UInt8>>(traceparentBytes bytes: Bytes) {
        let parsed = bytes.withContiguousStorageIfAvailable { Self.parse($0) }
            ?? Array(bytes).withUnsafeBufferPointer { Self.parse($0) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// The parser: the fields at their fixed offsets, every digit checked.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> TraceContext? {
        guard bytes.count >= length else { return nil }
        var valid = true
        func hex(_ offset: Int, _ count: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in offset..<(offset + count) {
                let c = bytes[i]
                let digit: UInt8
                if c &- UInt8(ascii: "0") < 10 {
                    digit = c &- UInt8(ascii: "0")
                } else if c &- UInt8(ascii: "a") < 6 {
                    digit = c &- UInt8(ascii: "a") &+ 10
                } else {
                    valid = false  // uppercase too: not valid in a traceparent
                    digit = 0
                }
                value = value << 4 | UInt64(digit)
            }
            return value
        }
        let version = hex(0, 2), high = hex(3, 16), low = hex(19, 16), span = hex(36, 16), flags = hex(53, 2)
        guard valid, version != 0xFF, bytes[2] == dash, bytes[35] == dash, bytes[52] == dash,
              high | low != 0, span != 0 else { return nil }
        // Version 00 is exactly 55 characters; a later one may go on after a dash.
        if bytes.count > length, version == 0 || bytes[length] != dash { return nil }
        return TraceContext(traceId: TraceID(high: high, low: low), spanId: SpanID(span), flags: UInt8(flags))
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

    private static var dash: UInt8 { UInt8(ascii: "-") }
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
    /// Writes the low `count` hex digits of `value` at `buffer[i...]` and advances `i`.
    @inline(__always)
    static func write(_ value: UInt64, digits count: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at i: inout Int) {
        var shift = (count - 1) * 4
        while shift >= 0 {
            let digit = UInt8(truncatingIfNeeded: value >> UInt64(shift)) & 0xF
            buffer[i] = digit < 10 ? digit &+ UInt8(ascii: "0") : digit &+ (UInt8(ascii: "a") &- 10)
            i += 1
            shift -= 4
        }
    }

    /// `first` (and `second`) as 16 hex digits each.
    static func string(_ first: UInt64, _ second: UInt64? = nil) -> String {
        String(unsafeUninitializedCapacity: second == nil ? 16 : 32) { buffer in
            var i = 0
            write(first, digits: 16, into: buffer, at: &i)
            if let second { write(second, digits: 16, into: buffer, at: &i) }
            return i
        }
    }
}
