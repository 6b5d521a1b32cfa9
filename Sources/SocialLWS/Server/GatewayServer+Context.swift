import CGatewayShims
import CLibWebSockets
import Foundation
import Logging
import SocialProtocol

/// The lws context: made once, on the service thread, with the settings'
/// port, limits, TLS files and the libuv loop; and the session budget that
/// fits the open-file limit.
extension GatewayServer {
    /// Makes the context on the service thread (lws reports its listener to
    /// the loop from inside `lws_create_context`). Service thread.
    func createContext() throws -> ContextHandle {
        let adapter = BusAdapter(loop: loop)
        busAdapter = adapter
        bus.attach(adapter)

        for reason in Self.forwardedReasons { sg_loop_forward(loop.raw, Int32(reason.rawValue)) }
        sg_loop_answer_overflows(loop.raw, settings.tlsCertPath == nil ? 1 : 0)
        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(strdup(ProtocolVersion.v1))
        protocols[0].callback = sg_loop_protocol_callback
        protocols[0].rx_buffer_size = Self.receiveChunkBytes
        // Without it lws cuts every send() to the receive chunk and waits for the
        // socket to be writable again between the pieces: a 4 KiB batch took five
        // sends and five loop turns. Any size the kernel takes goes in one call.
        protocols[0].tx_packet_size = Self.sendChunkBytes
        self.protocols = protocols

        var info = lws_context_creation_info()
        info.port = Int32(settings.port)
        let iface = strdup(settings.host)
        defer { free(iface) }
        info.iface = UnsafePointer(iface)
        info.protocols = UnsafePointer(protocols)
        // No permessage-deflate: lws 4.1.6 on the libuv loop stalls a message whose
        // inflation exceeds the receive chunk (protocol README, "Transport").
        info.user = UnsafeMutableRawPointer(loop.raw)
        info.timeout_secs = UInt32(settings.handshakeTimeoutSeconds)
        // A socket waiting for its request head holds a header table, and lws
        // times that out by its own setting (10 s unless given), not `timeout_secs`.
        info.timeout_secs_ah_idle = UInt32(settings.handshakeTimeoutSeconds)
        info.max_http_header_data2 = UInt32(Self.maxRequestHeadBytes)
        info.token_limits = sg_token_limits(UInt16(Self.maxRequestTargetBytes))
        info.fd_limit_per_thread = sg_fd_limit_per_thread(UInt32(maxSockets + Self.evictionRoom + OpenFiles.reserved(maxSockets)))
        info.retry_and_idle_policy = UnsafePointer(noValidityPolicy)  // `tick` runs pings and idle timeouts
        // The loop is ours (libuv, epoll underneath): lws watches its sockets on it.
        var foreignLoops: [UnsafeMutableRawPointer?] = [sg_loop_uv(loop.raw)]
        var options = UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8) | UInt64(LWS_SERVER_OPTION_LIBUV)
        if !settings.host.contains(":") {
            // lws otherwise binds an IPv4 address as a dual-stack socket on every interface.
            options |= UInt64(LWS_SERVER_OPTION_DISABLE_IPV6)
        }
        let alpn = strdup("http/1.1")
        defer { free(alpn) }
        var cert: UnsafeMutablePointer<CChar>?
        var key: UnsafeMutablePointer<CChar>?
        defer { free(cert); free(key) }
        if let certPath = settings.tlsCertPath, let keyPath = settings.tlsKeyPath {
            options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
            cert = strdup(certPath)
            key = strdup(keyPath)
            info.ssl_cert_filepath = UnsafePointer(cert)
            info.ssl_private_key_filepath = UnsafePointer(key)
            info.alpn = UnsafePointer(alpn)  // no HTTP/2: WebSocket over h2 is not offered
        }
        info.options = options

        let created = foreignLoops.withUnsafeMutableBufferPointer { loops in
            info.foreign_loops = loops.baseAddress
            return lws_create_context(&info)
        }
        guard let context = created else {
            throw ServerStartError("cannot listen on \(settings.host):\(settings.port) (in use, bad address, TLS files unreadable, or lws's libuv plugin missing)")
        }
        self.context = context
        let now = monotonicMillis()
        lastTickMs = now
        lastHeartbeatMs = now
        startResult.withLock { $0 = .success(()) }
        startSignal.signal()
        return ContextHandle(pointer: context)
    }

    /// The callback reasons the server handles; lws's others are answered 0 in C.
    static let forwardedReasons: [lws_callback_reasons] = [
        LWS_CALLBACK_FILTER_NETWORK_CONNECTION, LWS_CALLBACK_HTTP, LWS_CALLBACK_HTTP_BODY,
        LWS_CALLBACK_HTTP_BODY_COMPLETION, LWS_CALLBACK_HTTP_WRITEABLE, LWS_CALLBACK_HTTP_CONFIRM_UPGRADE,
        LWS_CALLBACK_ESTABLISHED, LWS_CALLBACK_RECEIVE, LWS_CALLBACK_RECEIVE_PONG, LWS_CALLBACK_SERVER_WRITEABLE,
        LWS_CALLBACK_CLOSED, LWS_CALLBACK_WSI_CREATE, LWS_CALLBACK_WSI_DESTROY, LWS_CALLBACK_CLOSED_HTTP,
    ]

    /// `maxConnections`, lowered so that every socket the node may hold
    /// (`maxSockets`, and the evicted ones not yet closed) fits under the
    /// open-file limit, raised first to its hard limit, with
    /// `OpenFiles.reserved` to spare: accept then does not fail for want of a
    /// descriptor (`EMFILE`; the loop rests the listener if it does anyway).
    static func sessionBudget(_ settings: ServerSettings, logger: Logger) -> Int {
        guard let limit = OpenFiles.raiseToHardLimit(logger: logger) else { return settings.maxConnections }
        let fit = limit - OpenFiles.reserved(limit) - probeRoom - evictionRoom
        guard fit < settings.maxConnections else { return settings.maxConnections }
        logger.warning("--max-connections lowered to fit the open-file limit", metadata: [
            "max_connections": "\(settings.maxConnections)", "open_file_limit": "\(limit)", "lowered_to": "\(max(1, fit))"])
        return max(1, fit)
    }
}
