/// A server frame may hold several messages, one a line (protocol README,
/// "Servers batch"): the writer joins queued messages with a line feed, and
/// every client splits on it. An encoded message never contains a raw line
/// feed (JSON escapes it inside strings), so the split is exact.
public enum FrameBatch {
    public static let separator: UInt8 = 0x0A

    /// The messages of one server frame, in order; empty lines are skipped.
    public static func messages(in frame: [UInt8]) -> [ArraySlice<UInt8>] {
        frame.split(separator: separator, omittingEmptySubsequences: true)
    }
}
