/// Decides which lines of a repeating log stream are written: the first line
/// of a kind, then at most one per `intervalMs`, which says how many like it
/// were held back meanwhile. A kind is the line with its numbers blanked
/// (`accept: errno 24` and `accept: errno 23` are one kind), so a library
/// that logs the same failure thousands of times a second (lws's listener
/// while the process is out of descriptors) costs a line per interval.
///
/// Pure and clock-injected: tested without a logger or sleeps.
struct LogThrottle {
    let intervalMs: Int64
    /// Most kinds remembered; past it, kinds not written within the interval are forgotten.
    let capacity: Int

    private struct Kind {
        var writtenMs: Int64
        var heldBack: Int
    }

    private var kinds: [String: Kind] = [:]

    init(intervalMs: Int64 = 10_000, capacity: Int = 256) {
        self.intervalMs = intervalMs
        self.capacity = capacity
    }

    /// Whether `line` is written now: nil holds it back; otherwise how many
    /// lines of its kind were held back since the last one written.
    mutating func admit(_ line: String, now: Int64) -> Int? {
        let key = Self.kind(of: line)
        if var kind = kinds[key] {
            guard now - kind.writtenMs >= intervalMs else {
                kind.heldBack += 1
                kinds[key] = kind
                return nil
            }
            kinds[key] = Kind(writtenMs: now, heldBack: 0)
            return kind.heldBack
        }
        if kinds.count >= capacity {
            kinds = kinds.filter { now - $0.value.writtenMs < intervalMs }
            if kinds.count >= capacity { kinds.removeAll(keepingCapacity: true) }
        }
        kinds[key] = Kind(writtenMs: now, heldBack: 0)
        return 0
    }

    /// The line with every run of digits (and `0x` pointers) written `#`.
    static func kind(of line: String) -> String {
        var out = ""
        out.reserveCapacity(line.utf8.count)
        var inNumber = false
        for c in line {
            let numeric = c.isASCII && (c.isNumber || (inNumber && (c.isHexDigit || c == "x")))
            if numeric {
                if !inNumber { out.append("#") }
                inNumber = true
            } else {
                inNumber = false
                out.append(c)
            }
        }
        return out
    }
}
