import Dispatch
import Foundation
import Logging
import SocialLWS

/// Turns SIGINT and SIGTERM into a drain of the server.
final class SignalDrain {
    private let sources: [any DispatchSourceSignal]

    init(server: GatewayServer, logger: Logger) {
        let queue = DispatchQueue(label: "social.signals")
        sources = [SIGINT, SIGTERM].map { signo in
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: queue)
            source.setEventHandler {
                logger.info("signal received, draining", metadata: ["signal": "\(signo)"])
                server.beginDrain()
            }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
