import CGatewayShims
import CLibWebSockets
import Foundation
import SocialCore
import SocialProtocol

/// The lws callbacks the server asked for (`forwardedReasons`), from the C
/// protocol callback of its `sg_loop`. Runs on the service thread, outside any
/// Swift job: it enters the server's isolation with `assumeIsolated`.
func gatewayCallback(_ user: UnsafeMutableRawPointer?, _ wsi: OpaquePointer?, _ reason: Int32,
                     _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    guard let user, let wsi else { return 0 }
    let server = Unmanaged<GatewayServer>.fromOpaque(user).takeUnretainedValue()
    let call = CallbackArguments(wsi: wsi, input: input)
    return server.assumeIsolated { $0.handle(call.wsi, lws_callback_reasons(UInt32(reason)), call.input, len) }
}

/// The lws pointers of the callback being run. `@unchecked Sendable`: they
/// stay on the service thread, which is running the callback, and are used
/// only until it returns; the wrapper only carries them into the server's
/// isolation (`assumeIsolated`), on that same thread.
struct CallbackArguments: @unchecked Sendable {
    let wsi: OpaquePointer
    let input: UnsafeMutableRawPointer?
}

extension GatewayServer {
    /// Dispatches one lws callback. Service thread.
    func handle(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
            return admitSocket()
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
            session(of: wsi)?.machine.received(now: monotonicMillis())
            return 0
        case LWS_CALLBACK_SERVER_WRITEABLE:
            guard let session = session(of: wsi) else { return -1 }
            return writable(session)
        case LWS_CALLBACK_CLOSED:
            closed(wsi)
            return 0
        case LWS_CALLBACK_WSI_CREATE:
            socketBudget.created(wsi)
            heapTrim.socketCreated()
            return 0
        case LWS_CALLBACK_WSI_DESTROY:
            socketBudget.destroyed(wsi)
            pendingUpgrades[wsi] = nil
            forgetAPI(wsi)
            return 0
        case LWS_CALLBACK_CLOSED_HTTP:
            if sg_loop_take_header_overflow() != 0 { requestHeadOverflowed(wsi) }
            pendingUpgrades[wsi] = nil
            forgetAPI(wsi)
            return 0
        default:
            return 0
        }
    }

    /// A socket was accepted (lws has not made its wsi yet): keep it, keep
    /// it and close the oldest half-open socket to make room, or close it at
    /// once (`SocketBudget`). While draining, TCP is still accepted so
    /// /readyz can answer 503; upgrades are refused in `confirmUpgrade`. Service thread.
    func admitSocket() -> Int32 {
        switch socketBudget.admit() {
        case .admit:
            return 0
        case .admitEvicting(let oldest):
            counts.socketsEvicted += 1
            sg_close_async(oldest)  // closed by lws on its next pass, not inside the listener's callback
            return 0
        case .refuse:
            counts.socketsRefused += 1
            return 1
        }
    }

    func session(of wsi: OpaquePointer) -> Session? {
        guard let tag = lws_get_opaque_user_data(wsi) else { return nil }
        return sessions[UInt64(UInt(bitPattern: tag))]
    }

    /// One inbox item. Service thread.
    func handle(_ work: Work) {
        switch work {
        case .reply(let reply):
            finish(reply)
        case .deliver(let events):
            deliver(events)
        case .busInterrupted(let topics):
            // With topics: one shard of several, or a publisher's loss: the sessions that follow one of them.
            resync(following: topics, reason: "bus_interrupted")
            recheckAllWatches()
        }
    }
}
