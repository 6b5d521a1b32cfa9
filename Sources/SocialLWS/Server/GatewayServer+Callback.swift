import CGatewayShims
import CLibWebSockets
import Foundation
import SocialCore
import SocialProtocol

/// The lws protocol callback for HTTP and WebSocket. Runs on the service thread.
func gatewayCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                     _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    guard let wsi, let context = lws_get_context(wsi), let raw = lws_context_user(context) else { return 0 }
    let server = Unmanaged<GatewayServer>.fromOpaque(raw).takeUnretainedValue()
    return server.handle(wsi, reason, input, len)
}

extension GatewayServer {
    /// Dispatches one lws callback. Service thread.
    func handle(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            drainInbox()
            return 0
        case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
            // While draining, TCP is still accepted so /readyz can answer 503;
            // upgrades are refused in `confirmUpgrade`.
            if sessions.count >= settings.maxConnections {
                stats.add(.handshakesRejected)
                return 1
            }
            return 0
        case LWS_CALLBACK_HTTP:
            return serveHTTP(wsi, path: input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "/")
        case LWS_CALLBACK_HTTP_BODY:
            return apiBody(wsi, input, len)
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            return apiBodyComplete(wsi)
        case LWS_CALLBACK_HTTP_WRITEABLE:
            return apiWritable(wsi)
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            return confirmUpgrade(wsi)
        case LWS_CALLBACK_ESTABLISHED:
            return established(wsi)
        case LWS_CALLBACK_RECEIVE:
            guard let session = session(of: wsi) else { return -1 }
            receive(session, input, len)
            return 0
        case LWS_CALLBACK_RECEIVE_PONG:
            session(of: wsi)?.lastReceiveMs = monotonicMillis()
            return 0
        case LWS_CALLBACK_SERVER_WRITEABLE:
            guard let session = session(of: wsi) else { return -1 }
            return writable(session)
        case LWS_CALLBACK_CLOSED:
            closed(wsi)
            return 0
        case LWS_CALLBACK_WSI_DESTROY, LWS_CALLBACK_CLOSED_HTTP:
            pendingUpgrades[wsi] = nil
            forgetAPI(wsi)
            return 0
        default:
            return 0
        }
    }

    func session(of wsi: OpaquePointer) -> Session? {
        guard let tag = lws_get_opaque_user_data(wsi) else { return nil }
        return sessions[UInt64(UInt(bitPattern: tag))]
    }

    /// Runs everything other threads posted. Service thread.
    func drainInbox() {
        for work in inbox.drain() {
            switch work {
            case .reply(let id, let outcome):
                commandFinished(id, outcome)
            case .subscribed(let id, let chats):
                subscriptionsLoaded(id, chats: chats)
            case .subscriptionFailed(let id):
                if let session = sessions[id] {
                    close(session, code: CloseCode.internalError.rawValue, reason: "subscriptions unavailable, reconnect with backoff")
                }
            case .deliver(let events):
                deliver(events)
            case .busInterrupted:
                let frame = Codec.push(EventName.resync, ResyncEvent(reason: "bus_interrupted"))
                for session in sessions.values { enqueue(session, frame, ephemeral: false) }
            case .drain:
                startDrain()
            case .apiAnswer(let id, let response):
                apiFinished(id, response)
            }
        }
    }
}
