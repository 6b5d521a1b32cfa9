import CGatewayShims
import CLibWebSockets
import Foundation
import Logging
import SocialCore
import SocialProtocol

extension GatewayServer {
    /// A request under `/api/`: refused from its head, run now, or run once
    /// its body is in. Service thread.
    func startAPI(_ wsi: OpaquePointer, path: String) -> Int32 {
        let head = apiHead(wsi, path: path)
        let expectsBody = (head.contentLength ?? 0) > 0
        let id = nextExchangeId
        nextExchangeId += 1
        let decision: APIGate.Decision = draining
            ? .refuse(.init(problem: .unavailable("this node is draining; retry on another node")))
            : apiGate.evaluate(head, now: Date().timeIntervalSince1970)
        switch decision {
        case .refuse(let refusal):
            if refusal.problem.status == 411 {
                // No length: the body cannot be skipped, so the connection goes.
                writeAPI(wsi, .init(response: refusal.problem.response(instance: path), header: refusal.header))
                return -1
            }
            guard expectsBody else {
                logAPI(method: head.method, path: path, status: refusal.problem.status, client: "-", requestId: "-",
                       span: nil)
                if writeAPI(wsi, .init(response: refusal.problem.response(instance: path), header: refusal.header)) != 0 { return -1 }
                return completeTransaction(wsi)
            }
            register(APIExchange(id: id, wsi: wsi, method: head.method, path: path, phase: .discarding(refusal)))
        case .admit(let route, let request):
            let exchange = APIExchange(id: id, wsi: wsi, method: head.method, path: path, phase: .receiving(route, request))
            exchange.clientId = request.clientId
            exchange.requestId = request.requestId
            exchange.span = request.trace
            register(exchange)
            if !expectsBody { run(exchange) }
        }
        return 0
    }

    private func register(_ exchange: APIExchange) {
        forgetAPI(exchange.wsi)
        apiByWsi[exchange.wsi] = exchange
        apiById[exchange.id] = exchange
    }

    /// A chunk of an API request body. Service thread.
    func apiBody(_ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        guard let exchange = apiByWsi[wsi] else { return -1 }
        guard case .receiving = exchange.phase else { return 0 }
        if exchange.body.count + len > apiGate.maxBodyBytes {
            exchange.body = []
            exchange.phase = .discarding(.init(problem: .payloadTooLarge(
                "the body exceeds \(apiGate.maxBodyBytes) bytes (--api-max-body-bytes)")))
            return 0
        }
        if let input, len > 0 { exchange.body.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len)) }
        return 0
    }

    /// The whole body is in: run the route or send the refusal. Service thread.
    func apiBodyComplete(_ wsi: OpaquePointer) -> Int32 {
        guard let exchange = apiByWsi[wsi] else { return -1 }
        switch exchange.phase {
        case .receiving:
            run(exchange)
        case .discarding(let refusal):
            answer(exchange, .init(response: refusal.problem.response(instance: exchange.path), header: refusal.header))
        case .running:
            break
        }
        return 0
    }

    /// Runs the handler in a task; its answer comes back through the inbox. Service thread.
    private func run(_ exchange: APIExchange) {
        guard case .receiving(let route, var received) = exchange.phase else { return }
        received.body = exchange.body
        let request = received
        exchange.body = []
        exchange.phase = .running
        let id = exchange.id
        let logger = self.logger
        let timeoutMs = settings.apiTimeoutMs
        // lws's own timeout of the connection must outlast ours, which answers 504.
        lws_set_timeout(exchange.wsi, PENDING_TIMEOUT_HTTP_CONTENT, Int32(timeoutMs / 1000 + 5))
        // The handler may wait on a store that does not answer: after
        // `apiTimeoutMs` the caller gets 504 and the handler is cancelled.
        // Cancellation stops what has not started (the rest of a
        // notification's users, say); a store write already under way is not
        // called back and may still complete, which the 504 says.
        // The handler's log lines, events and outgoing calls carry the request's id and span.
        let context = RequestContext.Snapshot(requestId: request.requestId, trace: request.trace)
        let handler = Task.detached { [weak self] in
            let response: APIResponse
            do {
                response = try await context.bind { try await route.handler(request) }
            } catch let problem as APIProblem {
                response = problem.response(instance: request.path)
            } catch is CancellationError {
                return  // answered 504 already
            } catch {
                logger.error("API handler failed", metadata: [
                    "method": "\(request.method)", "path": "\(request.path)", "request_id": "\(request.requestId)",
                    "error": "\(error)"])
                response = APIProblem.internal("the request failed inside the gateway; request id \(request.requestId)")
                    .response(instance: request.path)
            }
            await self?.apiFinished(id, response)
        }
        let timer = Task.detached { [weak self] in
            guard (try? await Task.sleep(nanoseconds: UInt64(timeoutMs) * 1_000_000)) != nil else { return }
            handler.cancel()
            logger.warning("API call timed out and was cancelled", metadata: [
                "method": "\(request.method)", "path": "\(request.path)", "request_id": "\(request.requestId)"])
            await self?.apiFinished(id, APIProblem(
                status: 504, title: "Gateway Timeout",
                detail: "no answer within \(timeoutMs) ms (--api-timeout-ms); the call was cancelled: what it had not started is not done, a change it had already handed to the store may still be made (retry with the same idempotency key)")
                .response(instance: request.path))
        }
        exchange.timer = timer
    }

    /// A handler finished (or timed out). Service thread.
    func apiFinished(_ id: UInt64, _ response: APIResponse) {
        // The client may have gone meanwhile: then the answer is dropped.
        guard let exchange = apiById[id], exchange.answer == nil else { return }
        exchange.timer?.cancel()
        exchange.timer = nil
        answer(exchange, .init(response: response, header: nil))
    }

    private func answer(_ exchange: APIExchange, _ answer: APIExchange.Answer) {
        exchange.answer = answer
        lws_callback_on_writable(exchange.wsi)
    }

    /// The socket can take the answer. Service thread.
    func apiWritable(_ wsi: OpaquePointer) -> Int32 {
        guard let exchange = apiByWsi[wsi], let answer = exchange.answer else { return 0 }
        forgetAPI(wsi)
        logAPI(method: exchange.method, path: exchange.path, status: answer.response.status,
               client: exchange.clientId, requestId: exchange.requestId, span: exchange.span)
        if writeAPI(wsi, answer) != 0 { return -1 }
        return completeTransaction(wsi)
    }

    /// The connection closed (or was reused): forget its exchange. Service thread.
    func forgetAPI(_ wsi: OpaquePointer) {
        guard let exchange = apiByWsi.removeValue(forKey: wsi) else { return }
        apiById[exchange.id] = nil
    }

    @discardableResult
    private func writeAPI(_ wsi: OpaquePointer, _ answer: APIExchange.Answer) -> Int32 {
        stats.add(.apiRequests)
        return answer.response.body.withUnsafeBufferPointer { buf in
            sg_http_respond(wsi, UInt32(answer.response.status), answer.response.contentType, buf.baseAddress, buf.count,
                            answer.header?.name, answer.header?.value)
        }
    }

    /// One line per API request; `span_id` is the parent-id of what the request called and published.
    private func logAPI(method: String, path: String, status: Int, client: String, requestId: String,
                        span: TraceContext?) {
        var metadata: Logger.Metadata = ["method": "\(method)", "path": "\(path)", "status": "\(status)",
                                         "client": "\(client)", "request_id": "\(requestId)"]
        if let span {
            metadata["trace_id"] = .stringConvertible(span.traceId)
            metadata["span_id"] = .stringConvertible(span.spanId)
        }
        logger.info("api", metadata: metadata)
    }

    /// Reads method, query, and the headers the gate needs. Service thread.
    private func apiHead(_ wsi: OpaquePointer, path: String) -> APIRequestHead {
        let methods: [(lws_token_indexes, String)] = [
            (WSI_TOKEN_GET_URI, "GET"), (WSI_TOKEN_POST_URI, "POST"), (WSI_TOKEN_PUT_URI, "PUT"),
            (WSI_TOKEN_PATCH_URI, "PATCH"), (WSI_TOKEN_DELETE_URI, "DELETE"), (WSI_TOKEN_OPTIONS_URI, "OPTIONS"),
            (WSI_TOKEN_HEAD_URI, "HEAD"),
        ]
        var method = "UNKNOWN"
        for (token, name) in methods where lws_hdr_total_length(wsi, token) > 0 {
            method = name
            break
        }
        var query: [String: String] = [:]
        var fragment: Int32 = 0
        var buffer = [CChar](repeating: 0, count: 4096)
        while lws_hdr_copy_fragment(wsi, &buffer, Int32(buffer.count), WSI_TOKEN_HTTP_URI_ARGS, fragment) > 0 {
            let pair = String(cString: buffer)
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            query[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            fragment += 1
        }
        let requestId = customHeader(wsi, "x-request-id:")
        let traceparent = customHeader(wsi, "traceparent:")
        let chunked = header(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING)?.lowercased().contains("chunked") ?? false
        let authorization: String? = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION)
        let contentType: String? = header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE)
        var contentLength: Int?
        if let length = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) {
            contentLength = Int(length.trimmingCharacters(in: .whitespaces))
        }
        var head = APIRequestHead(method: method, path: path)
        head.query = query
        head.authorization = authorization
        head.contentType = contentType
        head.contentLength = contentLength
        head.chunked = chunked
        head.requestId = requestId
        head.traceparent = traceparent
        return head
    }

    /// A header lws has no token for (`name` in lower case with its colon),
    /// when present and under 256 bytes. Service thread.
    private func customHeader(_ wsi: OpaquePointer, _ name: StaticString) -> String? {
        let nameLength = Int32(name.utf8CodeUnitCount)
        let cName = UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
        let length = lws_hdr_custom_length(wsi, cName, nameLength)
        guard length > 0, length < 256 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        guard lws_hdr_custom_copy(wsi, &buffer, Int32(buffer.count), cName, nameLength) >= 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
