import Foundation

/// A run's figures: the terminal table, the JSON file and (in
/// `RunReport+HTML.swift`) the HTML report.
struct RunReport {
    let plan: Plan
    let outcome: Coordinator.Outcome
    let label: String
    let date: Date

    var tally: Tally { outcome.tally }

    /// Every message delivered exactly once and in order, every connection as expected.
    var verified: Bool {
        outcome.workerFailures.isEmpty && tally.problems == 0 && tally.expected == tally.delivered
            && tally.unexpectedCloses.isEmpty && (plan.scenario != .connect || tally.connected == plan.connections)
            && botsWithinLimit
    }

    /// `bots`: a `rate_limited` reply means the gateway's per-bot limit is below the
    /// `--bot-rate-limit` the plan was checked against: the run measured the limiter.
    var botsWithinLimit: Bool { plan.scenario != .bots || (tally.errors["rate_limited"] ?? 0) == 0 }

    /// The seconds of the run in which something was sent (rates are over them).
    var sendSeconds: Double { plan.scenario == .connect ? 0 : plan.duration }

    /// From the start signal to the end of the last second with a delivery: when
    /// the gateway falls behind, deliveries go on after the sending stopped.
    var deliverySeconds: Double {
        guard let last = outcome.timeline.lastIndex(where: { $0.delivered > 0 }) else { return 0 }
        return Double(last + 1)
    }

    func rows() -> [(String, String)] {
        var rows: [(String, String)] = [
            ("scenario", plan.scenario.rawValue + (label.isEmpty ? "" : " — \(label)")),
            ("gateways", plan.urls.joined(separator: " ")),
            ("connections", "\(plan.connections) over \(plan.workers) worker process(es); \(tally.connected) opened, \(tally.connectFailures) failed"),
            ("setup", String(format: "%.1f s", outcome.setupSeconds)),
            ("connect", latency(tally.connect)),
        ]
        if plan.scenario == .connect {
            rows.append(("connect rate", String(format: "%.0f/s asked; hold %.0f s", plan.connectRate, plan.hold)))
        } else {
            rows += [
                ("sends", String(format: "%d sent, %d acked (%.0f/s over %.0f s; %.0f/s asked), %d errors, %d unanswered", tally.sent,
                                 tally.acked, Double(tally.acked) / sendSeconds, sendSeconds, plan.rate,
                                 tally.errors.values.reduce(0, +), tally.unanswered)),
                ("ack", latency(tally.ack)),
                ("delivery", latency(tally.delivery)),
                ("deliveries", String(format: "%d of %d expected (%.0f/s over the sending time; %.0f/s over the %.0f s until the last one)",
                                      tally.delivered, tally.expected, Double(tally.delivered) / sendSeconds,
                                      deliverySeconds > 0 ? Double(tally.delivered) / deliverySeconds : 0, deliverySeconds)),
                ("lost / dup / ooo", "\(tally.lost) / \(tally.duplicated) / \(tally.outOfOrder); gaps \(tally.gaps); unacknowledged deliveries \(tally.unacknowledgedDeliveries)"),
            ]
        }
        if plan.scenario == .bots {
            rows.append(("bots", String(format: "%d bots, each in %d chats of %d members, %.1f messages/s each (gateway limit given: %.0f/s); %d delivered without sender_kind bot",
                                        plan.bots, plan.botChats, plan.groupSize, plan.ratePerBot, plan.botRateLimit, tally.wrongSenderKind)))
            if !botsWithinLimit {
                rows.append(("bot limit", "the gateway answered rate_limited: its --rate-bot-messages is below --bot-rate-limit \(plan.botRateLimit); start it with at least that, or lower --rate"))
            }
        }
        if plan.scenario == .churn || plan.scenario == .reconnectStorm {
            rows.append(("resync", "\(tally.reconnects) reconnects, \(tally.syncs) sync calls; " + latency(tally.resync)))
        }
        if plan.scenario == .reconnectStorm {
            rows.append(("storm", tally.stormResyncSeconds.map { String(format: "everyone resynced %.2f s after the drop", $0) } ?? "NOT everyone resynced within --drain-timeout"))
        }
        if let g = outcome.gateway {
            let base = g.baselineRSS.reduce(0, +), peak = g.peakRSS.reduce(0, +)
            var text = String(format: "RSS %.1f → %.1f MiB peak (%.1f KiB per connection); %.2f CPU s during the run",
                              Double(base) / 1_048_576, Double(peak) / 1_048_576, g.rssPerConnection / 1024, g.cpuSecondsRun)
            if let perMillion = g.cpuSecondsPerMillionDeliveries { text += String(format: ", %.2f CPU s per million deliveries", perMillion) }
            rows.append(("gateway", text))
        }
        if !tally.errors.isEmpty {
            rows.append(("errors", tally.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))
        }
        if !tally.connectFailureReasons.isEmpty {
            rows.append(("connect failures", tally.connectFailureReasons.sorted { $0.value > $1.value }.prefix(5)
                .map { "\($0.key): \($0.value)" }.joined(separator: "; ")))
        }
        if !tally.unexpectedCloses.isEmpty {
            rows.append(("closes", tally.unexpectedCloses.sorted { $0.key < $1.key }.map { "code \($0.key): \($0.value)" }.joined(separator: ", ")))
        }
        for failure in outcome.workerFailures { rows.append(("failure", failure)) }
        let success = plan.scenario == .connect
            ? "verified: every connection opened and stayed open through the hold"
            : plan.scenario == .bots
                ? "verified: every acknowledged bot message reached every member exactly once, in order, marked sender_kind bot"
                : "verified: every acknowledged message reached every member exactly once, in order"
        rows.append(("result", verified ? success : "VERIFICATION FAILED"))
        return rows
    }

    func table() -> String {
        (["social-loadtest"] + rows().map { "  " + $0.0.padding(toLength: 17, withPad: " ", startingAt: 0) + " " + $0.1 })
            .joined(separator: "\n")
    }

    private func latency(_ l: Latency) -> String {
        l.count == 0 ? "-" : String(format: "p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms (n=%d)",
                                    l.ms(50), l.ms(90), l.ms(99), l.ms(99.9), l.maxMs, Int(l.count))
    }

    func json() throws -> Data {
        var planObject = try JSONSerialization.jsonObject(with: JSONEncoder().encode(plan)) as? [String: Any] ?? [:]
        planObject["secret"] = nil
        planObject["botAccounts"] = nil
        if plan.scenario == .bots { planObject["botIds"] = plan.botAccounts.map(\.id) }
        var object: [String: Any] = [
            "label": label,
            "date": ISO8601DateFormatter().string(from: date),
            "plan": planObject,
            "verified": verified,
            "setup_seconds": outcome.setupSeconds,
            "run_seconds": outcome.runSeconds,
            "connected": tally.connected, "connect_failures": tally.connectFailures,
            "connect_failure_reasons": tally.connectFailureReasons,
            "unexpected_closes": tally.unexpectedCloses,
            "sent": tally.sent, "acked": tally.acked, "errors": tally.errors, "unanswered": tally.unanswered,
            "duplicate_acks": tally.duplicateAcks,
            "expected_deliveries": tally.expected, "delivered": tally.delivered,
            "lost": tally.lost, "duplicated": tally.duplicated, "out_of_order": tally.outOfOrder, "gaps": tally.gaps,
            "unacknowledged_deliveries": tally.unacknowledgedDeliveries, "wrong_sender_kind": tally.wrongSenderKind,
            "syncs": tally.syncs, "reconnects": tally.reconnects, "resynced_clients": tally.resyncedClients,
            "latency_ms": ["connect": tally.connect.summary, "ack": tally.ack.summary,
                           "delivery": tally.delivery.summary, "resync": tally.resync.summary],
            "timeline": outcome.timeline.enumerated().map { i, s in
                ["second": i, "open": s.open, "sent": s.sent, "acked": s.acked, "delivered": s.delivered, "errors": s.errors,
                 "ack_p50_ms": s.ack.ms(50), "ack_p99_ms": s.ack.ms(99),
                 "delivery_p50_ms": s.delivery.ms(50), "delivery_p99_ms": s.delivery.ms(99)] as [String: Any]
            },
            "worker_failures": outcome.workerFailures,
        ]
        if sendSeconds > 0 {
            object["acks_per_second"] = Double(tally.acked) / sendSeconds
            object["deliveries_per_second"] = Double(tally.delivered) / sendSeconds
            object["delivery_seconds"] = deliverySeconds
            if deliverySeconds > 0 { object["deliveries_per_second_until_last"] = Double(tally.delivered) / deliverySeconds }
        }
        if let s = tally.stormResyncSeconds { object["storm_resync_seconds"] = s }
        if let g = outcome.gateway {
            var gateway: [String: Any] = ["pids": g.pids, "baseline_rss_bytes": g.baselineRSS, "peak_rss_bytes": g.peakRSS,
                                          "rss_bytes_per_connection": g.rssPerConnection, "cpu_seconds_run": g.cpuSecondsRun]
            if let c = g.cpuSecondsPerMillionDeliveries { gateway["cpu_seconds_per_million_deliveries"] = c }
            object["gateway"] = gateway
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}
