import Foundation
import SocialProtocol

/// A WebSocket spoken by hand over a `RawSocket`: the handshake, and frames
/// built byte by byte (masked or not, with any opcode or flags), so tests can
/// send what a correct client never would.
public final class RawWebSocket {
    public let socket: RawSocket
    private var buffered: [UInt8] = []

    /// Performs the handshake; throws unless the server answers 101.
    public init(port: Int, token: String, path: String = "/ws", timeout: Double = 5) throws {
        socket = try RawSocket(port: port, timeout: timeout)
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Authorization: Bearer \(token)\r\n\r\n"
        try socket.send(request)
        var head: [UInt8] = []
        while true {
            let chunk = socket.receive(max: 1)
            if chunk.isEmpty { throw MinterError("handshake: connection closed") }
            head += chunk
            if head.count >= 4 && Array(head.suffix(4)) == [13, 10, 13, 10] { break }
        }
        let text = String(decoding: head, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 101") else { throw MinterError("handshake refused: \(text.prefix(80))") }
    }

    /// Builds one frame. `mask: nil` sends it unmasked (a protocol violation for clients).
    public static func frame(opcode: UInt8, payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0,
                             mask: [UInt8]? = [0x11, 0x22, 0x33, 0x44]) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | (rsv << 4) | (opcode & 0x0F)]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        if payload.count < 126 {
            out.append(maskBit | UInt8(payload.count))
        } else if payload.count < 65536 {
            out.append(maskBit | 126)
            out += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        if let mask {
            out += mask
            out += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        } else {
            out += payload
        }
        return out
    }

    public func sendText(_ text: String, masked: Bool = true) throws {
        try socket.send(Self.frame(opcode: 1, payload: Array(text.utf8), mask: masked ? [1, 2, 3, 4] : nil))
    }

    /// A server frame: opcode and payload.
    public struct Frame {
        public var opcode: UInt8
        public var payload: [UInt8]
        public var text: String { String(decoding: payload, as: UTF8.self) }
        /// The messages of a text frame: the server may batch several, one a line (`FrameBatch`).
        public var messages: [String] { FrameBatch.messages(in: payload).map { String(decoding: $0, as: UTF8.self) } }
        /// For a close frame: the status code.
        public var closeCode: UInt16? {
            opcode == 8 && payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
        }
    }

    /// Reads the next server frame (servers never mask). Nil at EOF/timeout.
    public func next() -> Frame? {
        func need(_ n: Int) -> Bool {
            while buffered.count < n {
                let chunk = socket.receive()
                if chunk.isEmpty { return false }
                buffered += chunk
            }
            return true
        }
        guard need(2) else { return nil }
        let opcode = buffered[0] & 0x0F
        var length = Int(buffered[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard need(4) else { return nil }
            length = Int(buffered[2]) << 8 | Int(buffered[3])
            offset = 4
        } else if length == 127 {
            guard need(10) else { return nil }
            length = buffered[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        guard need(offset + length) else { return nil }
        let payload = Array(buffered[offset..<offset + length])
        buffered.removeFirst(offset + length)
        return Frame(opcode: opcode, payload: payload)
    }

    /// Reads frames until a close frame (returns its code) or EOF (nil).
    public func waitForClose() -> UInt16? {
        while let frame = next() {
            if frame.opcode == 8 { return frame.closeCode }
        }
        return nil
    }
}
