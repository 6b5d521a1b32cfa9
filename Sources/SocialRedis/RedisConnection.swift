internal import CHiredis
import Foundation

/// Owns one blocking hiredis `redisContext` (one TCP connection to Redis).
///
/// Threads: hiredis contexts are not thread-safe. A connection is created by
/// and confined to the one thread that uses it (the bus's publisher or its
/// subscriber); every method below must be called on that thread only. It is
/// deliberately not `Sendable`.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    private init(context: UnsafeMutablePointer<redisContext>) {
        self.context = context
    }

    deinit { redisFree(context) }

    /// Connects to `url` and sets the socket's send and receive timeouts.
    /// Blocks up to `connectTimeout` (plus name resolution). Owning thread.
    /// - Parameters:
    ///   - connectTimeout: seconds the TCP connect may take.
    ///   - ioTimeout: seconds a blocking read or write may wait before it fails.
    static func connect(to url: RedisURL, connectTimeout: Double, ioTimeout: Double) throws -> RedisConnection {
        guard let raw = redisConnectWithTimeout(url.host, Int32(url.port), timeval(seconds: connectTimeout)) else {
            throw RedisBusError.connectFailed("cannot allocate a hiredis context")
        }
        // From here the class owns `raw`: a failure below frees it in `deinit`.
        let connection = RedisConnection(context: raw)
        if raw.pointee.err != 0 {
            throw RedisBusError.connectFailed("\(url): \(connection.errorText)")
        }
        guard redisSetTimeout(raw, timeval(seconds: ioTimeout)) == REDIS_OK else {
            throw RedisBusError.connectFailed("\(url): cannot set socket timeouts: \(connection.errorText)")
        }
        _ = redisEnableKeepAlive(raw)
        return connection
    }

    /// The socket, for `poll`. Owning thread.
    var fileDescriptor: Int32 { context.pointee.fd }

    /// Queues `command` in the output buffer; nothing is sent yet. Owning thread.
    func append(_ command: RedisCommand) throws {
        let status: Int32 = command.bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return REDIS_ERR }
            var argv: [UnsafePointer<CChar>?] = command.offsets.map {
                UnsafeRawPointer(base + $0).assumingMemoryBound(to: CChar.self)
            }
            return command.lengths.withUnsafeBufferPointer { lengths in
                redisAppendCommandArgv(context, Int32(argv.count), &argv, lengths.baseAddress)
            }
        }
        guard status == REDIS_OK else { throw failure("append") }
    }

    /// Writes the whole output buffer; blocks at most the I/O timeout per
    /// write. Owning thread.
    func flush() throws {
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw failure("write") }
        }
    }

    /// Sends what is queued and waits for the next reply (up to the I/O
    /// timeout). For a connection not in subscribe mode. Owning thread.
    func reply() throws -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure("read") }
        defer { freeReplyObject(raw) }
        return RedisReply(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Reads once from the socket into the reply reader (one `read`: call it
    /// when `poll` said the socket is readable, or it blocks). Owning thread.
    func readAvailable() throws {
        guard redisBufferRead(context) == REDIS_OK else { throw failure("read") }
    }

    /// The next whole reply already read from the socket, if any. Owning thread.
    func bufferedReply() throws -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw failure("parse") }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return RedisReply(raw.assumingMemoryBound(to: redisReply.self))
    }

    private var errorText: String {
        withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private func failure(_ operation: String) -> RedisBusError {
        let text = errorText
        return .connectionLost("\(operation) failed: \(text.isEmpty ? "hiredis error \(context.pointee.err)" : text)")
    }
}

/// One Redis command as its arguments, laid out in one buffer so that it can
/// be handed to `redisAppendCommandArgv` without a pointer per argument.
/// Binary-safe. Threads: a value; any thread.
struct RedisCommand {
    private(set) var bytes: [UInt8] = []
    private(set) var offsets: [Int] = []
    private(set) var lengths: [Int] = []

    init(_ name: String) { argument(name.utf8) }

    /// Appends one argument.
    mutating func argument<Bytes: Collection>(_ value: Bytes) where Bytes.Element == UInt8 {
        begin()
        bytes.append(contentsOf: value)
        end()
    }

    /// Appends one argument made of several parts (a header and a frame),
    /// copied once.
    mutating func argument(parts: [UInt8]...) {
        begin()
        for part in parts { bytes.append(contentsOf: part) }
        end()
    }

    private mutating func begin() { offsets.append(bytes.count) }
    private mutating func end() { lengths.append(bytes.count - offsets[offsets.count - 1]) }
}

extension timeval {
    init(seconds: Double) {
        let whole = max(0, seconds.rounded(.down))
        self.init(tv_sec: Int(whole), tv_usec: Int((max(0, seconds) - whole) * 1_000_000))
    }
}
