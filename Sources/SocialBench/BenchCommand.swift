import ArgumentParser
import Foundation
import SocialTesting

/// `social-bench`: stored-and-acknowledged sends per second and send →
/// delivery latency of a gateway, with every delivery checked. A program
/// that prints figures, not a test.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "social-bench",
        abstract: "Chat benchmark of the social gateway: sends/s, ack and delivery latency, delivery checks.",
        discussion: """
            Each sender connection (a distinct user) keeps W chat.send commands in flight; receiver connections \
            (other members of the same groups) time the message.new events. One phase runs per value of --inflight. \
            Every acknowledged message must reach every member connection exactly once, with gap-free increasing \
            seqs: the exit status is 2 when that check fails, 1 when the run could not be set up. \
            Only loopback gateways are accepted.
            """)

    @OptionGroup var options: BenchOptions

    func run() async throws {
        let secret = options.spawn ? Self.randomSecret() : options.resolvedSecret!
        let minter = try await TokenMinter.make(secret: secret)
        var gateway: GatewayProcess?
        let target: GatewayTarget
        if options.spawn {
            let binary = options.gatewayBinary()
            setenv("SOCIAL_GATEWAY_BIN", binary, 1)  // GatewayProcess reads it
            progress("starting \(binary)")
            do {
                gateway = try GatewayProcess.start(
                    // The bench measures the store and the send path: a sender's rate limits are off
                    // (a --gateway-arg=--rate-limits=on put back the defaults).
                    secret: secret,
                    arguments: ["--store", "embedded", "--log-level", "warning", "--rate-limits", "off"] + options.gatewayArg)
            } catch {
                throw ValidationError("cannot start the gateway: \(error)")
            }
            target = try GatewayTarget(url: "ws://127.0.0.1:\(gateway!.port)/ws")
        } else {
            target = try GatewayTarget(url: options.url!)
        }
        let o = options
        if let idle = o.idle {
            let runner = IdleRunner(target: target, count: idle, clientThreads: o.clientThreads, insecure: o.insecure,
                                    gatewayPid: gateway?.pid ?? o.gatewayPid,
                                    token: { minter.token(user: $0, ttl: 86_400) }, log: progress)
            let result = await withCheckedContinuation { (done: CheckedContinuation<Result<IdleRunner.Outcome, any Error>, Never>) in
                Thread.detachNewThread { done.resume(returning: Result { try runner.run() }) }
            }
            if let gateway, gateway.stop() != 0 { progress("the gateway did not stop cleanly; its log: \(gateway.logPath)") }
            let outcome = try result.get()
            print(IdleRunner.table(outcome))
            if !outcome.failures.isEmpty { throw ExitCode(2) }
            return
        }
        let plan = BenchRunner.Plan(
            target: target, receiverTarget: try o.receiverUrl.map { try GatewayTarget(url: $0) }, senders: o.senders, sendersPerGroup: o.sendersPerGroup, receiversPerGroup: o.receivers,
            windows: o.windows, duration: o.duration, count: o.count, textBytes: o.textBytes,
            drainTimeout: o.drainTimeout, clientThreads: o.clientThreads, insecure: o.insecure,
            gatewayPid: gateway?.pid ?? o.gatewayPid)
        let runner = BenchRunner(plan: plan, token: { minter.token(user: $0, ttl: 86_400) }, log: progress)
        // The runner blocks: give it its own thread, not the cooperative pool.
        let result = await withCheckedContinuation { (done: CheckedContinuation<Result<BenchRunner.Outcome, any Error>, Never>) in
            Thread.detachNewThread { done.resume(returning: Result { try runner.run() }) }
        }
        if let gateway {
            if gateway.stop() != 0 { progress("the gateway did not stop cleanly; its log: \(gateway.logPath)") }
            if !options.keepData { try? FileManager.default.removeItem(atPath: gateway.dataDir) }
        }
        let outcome: BenchRunner.Outcome
        switch result {
        case .success(let value): outcome = value
        case .failure(let error):
            progress("social-bench: \(error)")
            if let gateway { progress("gateway log: \(gateway.logPath)") }
            throw ExitCode(1)
        }
        let report = Report(config: config(target: target, spawned: gateway != nil),
                            settings: settings(target: target, spawned: gateway != nil), outcome: outcome)
        print(report.table())
        if let json = options.json { try report.json().write(to: URL(fileURLWithPath: json)) }
        if report.problems > 0 { throw ExitCode(2) }
    }

    private func config(target: GatewayTarget, spawned: Bool) -> [(String, String)] {
        let o = options
        return [
            ("gateway", spawned ? "\(target), spawned: \(o.gatewayBinary())" : "\(target)"),
            ("store", spawned ? o.spawnedStore + (o.spawnedStore == "embedded" ? " (fresh data dir)" : "") : "as the running gateway is configured"),
            ("senders", "\(o.senders) connections, \(o.sendersPerGroup) per group"),
            ("groups", "\(o.groups), \(o.receivers) receiver connection(s) each"),
            ("connections", "\(o.groups * o.receivers + o.senders)"),
            ("phases", "W = \(o.inflight), each \(o.count.map { "\($0) messages per sender or " } ?? "")\(o.duration) s"),
            ("text", "\(o.textBytes) bytes"),
            ("client threads", "\(o.clientThreads) (this program), \(ProcessInfo.processInfo.activeProcessorCount) cores shared with the gateway"),
        ]
    }

    private func settings(target: GatewayTarget, spawned: Bool) -> [String: Any] {
        let o = options
        var settings: [String: Any] = [
            "url": "\(target)", "senders": o.senders, "senders_per_group": o.sendersPerGroup, "groups": o.groups,
            "receivers_per_group": o.receivers, "inflight": o.windows, "duration_s": o.duration,
            "text_bytes": o.textBytes, "client_threads": o.clientThreads,
            "cores": ProcessInfo.processInfo.activeProcessorCount,
            "store": spawned ? o.spawnedStore : "unknown (running gateway)",
        ]
        if let count = o.count { settings["count"] = count }
        if spawned {
            settings["gateway_binary"] = o.gatewayBinary()
            settings["gateway_args"] = o.gatewayArg
        }
        return settings
    }

    private static func randomSecret() -> String {
        (0..<48).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
    }
}

/// Progress and problems go to stderr; the figures alone go to stdout.
func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
