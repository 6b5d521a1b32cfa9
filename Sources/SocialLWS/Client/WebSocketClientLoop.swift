import CGatewayShims
import CLibWebSockets
import Foundation
import Logging
import Synchronization

/// A libwebsockets client context with its own service thread and epoll loop
/// (`ServiceLoop`), holding any number of client connections (the
/// integration tests, the CLI and the load-test driver use it). Only the
/// loop's thread calls `lws_*`; other threads post work. Fields marked "loop
/// thread" are touched only there, which is why this class is
/// `@unchecked Sendable`.
public final class WebSocketClientLoop: @unchecked Sendable {
    enum Work: Sendable {
        case connect(ClientConnection)
        case writable(ClientConnection)
        case stop
    }

    private let loop: ServiceLoop<Work>
    private var context: OpaquePointer?
    private var protocols: UnsafeMutablePointer<lws_protocols>?
    private let localProtocolName = strdup("social-client")!
    private let stopped = DispatchSemaphore(value: 0)
    private let idLock = NSLock()
    private var nextId: UInt64 = 1

    // Loop thread only.
    private var connections: [UInt64: ClientConnection] = [:]
    private var running = true

    /// - Parameters:
    ///   - deflate: offer permessage-deflate.
    ///   - maxConnections: sockets this loop may hold when the open-file limit is above 1M
    ///     (below that, lws sizes its tables by the limit; see `sg_fd_limit_per_thread`).
    public init(deflate: Bool = false, maxConnections: Int = 1024, logger: Logger = Logger(label: "social.client")) throws {
        LWSLog.install(logger)
        loop = try ServiceLoop()
        for reason in Self.forwardedReasons { sg_loop_forward(loop.raw, Int32(reason.rawValue)) }
        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(localProtocolName)
        protocols[0].callback = sg_loop_protocol_callback
        protocols[0].rx_buffer_size = 16 * 1024
        protocols[0].tx_packet_size = 1 << 20  // else lws cuts each send() to the receive size
        self.protocols = protocols

        loop.start(
            name: "lws-client", tickMs: 0, callback: clientCallback,
            callbackUser: Unmanaged.passUnretained(self).toOpaque(),
            event: { [self] event in
                if event == Int32(SG_LOOP_WAKE) || (event == Int32(SG_LOOP_PREPARE) && loop.hasSelfPosted) {
                    loop.drain { handle($0) }
                }
            },
            setUp: { [self] in
                // The context is made on its own thread, on the loop it runs on.
                var info = lws_context_creation_info()
                info.port = CONTEXT_PORT_NO_LISTEN
                info.protocols = UnsafePointer(self.protocols)
                if deflate { info.extensions = sg_ws_extensions() }
                info.user = UnsafeMutableRawPointer(loop.raw)
                info.fd_limit_per_thread = sg_fd_limit_per_thread(UInt32(maxConnections + 64))
                info.retry_and_idle_policy = UnsafePointer(noValidityPolicy)
                info.options = UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT) | UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8)
                    | UInt64(LWS_SERVER_OPTION_LIBUV)
                var foreignLoops: [UnsafeMutableRawPointer?] = [sg_loop_uv(loop.raw)]
                context = foreignLoops.withUnsafeMutableBufferPointer { loops in
                    info.foreign_loops = loops.baseAddress
                    return lws_create_context(&info)
                }
                guard let context else { throw ServerStartError("cannot create the WebSocket client context") }
                created.signal()
                return ContextHandle(pointer: context)
            },
            failed: { [self] error in
                startFailure.withLock { $0 = error }
                created.signal()
            },
            finished: { [self] in stopped.signal() })
        created.wait()
        if let error = startFailure.withLock({ $0 }) { throw error }
    }

    private let created = DispatchSemaphore(value: 0)
    private let startFailure = Mutex<(any Error)?>(nil)

    /// The callback reasons the client handles; lws's others are answered 0 in C.
    static let forwardedReasons: [lws_callback_reasons] = [
        LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER, LWS_CALLBACK_CLIENT_ESTABLISHED, LWS_CALLBACK_CLIENT_RECEIVE,
        LWS_CALLBACK_CLIENT_WRITEABLE, LWS_CALLBACK_WS_PEER_INITIATED_CLOSE, LWS_CALLBACK_CLIENT_CLOSED,
        LWS_CALLBACK_CLIENT_CONNECTION_ERROR, LWS_CALLBACK_WSI_DESTROY,
    ]

    /// Starts connecting. The delegate hears `clientOpened` or `clientFailed`. Any thread.
    public func connect(_ request: ClientRequest, delegate: any ClientDelegate) -> ClientConnection {
        idLock.lock()
        let id = nextId
        nextId += 1
        idLock.unlock()
        let connection = ClientConnection(id: id, request: request, delegate: delegate, loop: self)
        post(.connect(connection))
        return connection
    }

    /// Closes every connection abruptly and stops the thread. Any thread but the loop's.
    public func shutdown() {
        post(.stop)
        stopped.wait()
    }

    func post(_ work: Work) {
        loop.post(work)
    }

    // MARK: loop thread

    fileprivate func handle(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons,
                            _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        guard let wsi, let connection = connection(of: wsi) else { return 0 }
        switch reason {
        case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
            guard let input else { return 0 }
            for (name, value) in connection.request.headers {
                if sg_client_append_header(input, len, name, value) != 0 { return -1 }
            }
            return 0
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            connection.opened = true
            connection.delegate?.clientOpened(connection)
            // Frames queued before the handshake finished go out now.
            lws_callback_on_writable(wsi)
            return 0
        case LWS_CALLBACK_CLIENT_RECEIVE:
            if lws_is_first_fragment(wsi) != 0 { connection.rx.removeAll(keepingCapacity: true) }
            if let input, len > 0 { connection.rx.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len)) }
            if lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0 {
                let frame = connection.rx
                connection.rx = []
                connection.delegate?.client(connection, received: frame)
            }
            return 0
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            return writable(connection)
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            if let input, len >= 2 {
                let bytes = UnsafeRawBufferPointer(start: input, count: len)
                connection.peerCloseCode = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
                connection.peerCloseReason = String(decoding: bytes[2...], as: UTF8.self)
            }
            return 0
        case LWS_CALLBACK_CLIENT_CLOSED:
            finish(connection) { $0.delegate?.clientClosed($0, code: $0.peerCloseCode, reason: $0.peerCloseReason) }
            return 0
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            let message = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "connection failed"
            let status = Int(lws_http_client_http_response(wsi))
            finish(connection) {
                $0.delegate?.clientFailed($0, error: message, httpStatus: status > 0 ? status : nil)
            }
            return 0
        case LWS_CALLBACK_WSI_DESTROY:
            // A connection that died without CLOSED or CONNECTION_ERROR (e.g. during TLS).
            finish(connection) {
                if $0.opened {
                    $0.delegate?.clientClosed($0, code: $0.peerCloseCode, reason: $0.peerCloseReason)
                } else {
                    $0.delegate?.clientFailed($0, error: "connection closed during handshake", httpStatus: nil)
                }
            }
            return 0
        default:
            return 0
        }
    }

    private func connection(of wsi: OpaquePointer) -> ClientConnection? {
        guard let tag = lws_get_opaque_user_data(wsi) else { return nil }
        return connections[UInt64(UInt(bitPattern: tag))]
    }

    private func finish(_ connection: ClientConnection, _ report: (ClientConnection) -> Void) {
        guard !connection.finished else { return }
        connection.finished = true
        if let wsi = connection.wsi { lws_set_opaque_user_data(wsi, nil) }
        connections[connection.id] = nil
        report(connection)
    }

    private func writable(_ connection: ClientConnection) -> Int32 {
        let (frames, close) = connection.takeOutbox()
        var index = frames.startIndex
        while index < frames.endIndex, lws_send_pipe_choked(connection.wsi) == 0 {
            let frame = frames[index]
            let n = frame.withUnsafeBufferPointer { sg_ws_write(connection.wsi, $0.baseAddress, $0.count, 0) }
            if n < frame.count { return -1 }
            index += 1
        }
        connection.putBack(frames[index...])
        if index < frames.endIndex {
            lws_callback_on_writable(connection.wsi)
            return 0
        }
        if let code = close, !connection.closeStarted {
            // Not by returning -1: lws's debug build would drop the close frame on the libuv loop;
            // and once: a second start would hang up without it.
            connection.closeStarted = true
            var reason: [UInt8] = []
            lws_close_reason(connection.wsi, lws_close_status(UInt32(code)), &reason, 0)
            lws_close_free_wsi(connection.wsi, lws_close_status(UInt32(code)), "client")
            return 0
        }
        return 0
    }

    private func handle(_ work: Work) {
            switch work {
            case .connect(let connection):
                open(connection)
            case .writable(let connection):
                if let wsi = connection.wsi, !connection.finished, connection.opened {
                    lws_callback_on_writable(wsi)
                }
            case .stop:
                running = false
                loop.stop()
            }
    }

    private func open(_ connection: ClientConnection) {
        let request = connection.request
        var info = lws_client_connect_info()
        let host = strdup(request.host), path = strdup(request.path)
        let hostHeader = strdup("\(request.host):\(request.port)")
        let origin = strdup(request.origin ?? "")
        let subprotocol = request.subprotocol.map { strdup($0) } ?? nil
        defer { free(host); free(path); free(hostHeader); free(origin); free(subprotocol) }
        info.context = context
        info.address = UnsafePointer(host)
        info.port = Int32(request.port)
        info.path = UnsafePointer(path)
        info.host = UnsafePointer(hostHeader)
        if request.origin != nil { info.origin = UnsafePointer(origin) }
        info.protocol = UnsafePointer(subprotocol)
        info.local_protocol_name = UnsafePointer(localProtocolName)
        if request.tls {
            var flags = Int32(LCCSCF_USE_SSL.rawValue)
            if request.allowInsecureTLS {
                flags |= Int32(LCCSCF_ALLOW_SELFSIGNED.rawValue | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK.rawValue
                               | LCCSCF_ALLOW_INSECURE.rawValue)
            }
            info.ssl_connection = flags
        }
        info.opaque_user_data = UnsafeMutableRawPointer(bitPattern: UInt(connection.id))
        connections[connection.id] = connection
        // lws may call back (even CONNECTION_ERROR) before this returns.
        let result = lws_client_connect_via_info(&info)
        if result == nil, !connection.finished {
            finish(connection) { $0.delegate?.clientFailed($0, error: "cannot start connecting", httpStatus: nil) }
            return
        }
        if !connection.finished { connection.wsi = result }
    }
}

/// The client callbacks asked for (`forwardedReasons`), from the C protocol
/// callback of the loop. Runs on the loop's service thread.
private func clientCallback(_ user: UnsafeMutableRawPointer?, _ wsi: OpaquePointer?, _ reason: Int32,
                            _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    guard let user, let wsi else { return 0 }
    return Unmanaged<WebSocketClientLoop>.fromOpaque(user).takeUnretainedValue()
        .handle(wsi, lws_callback_reasons(UInt32(reason)), input, len)
}
