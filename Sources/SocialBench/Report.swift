import Foundation

/// The benchmark's figures as a table for people and as JSON for files.
struct Report {
    /// Shown at the top of the table.
    let config: [(String, String)]
    /// The same settings with stable keys, for the JSON file.
    let settings: [String: Any]
    let outcome: BenchRunner.Outcome

    var problems: Int { outcome.phases.reduce(0) { $0 + $1.problems } + outcome.closes.count }

    func table() -> String {
        var lines = ["social-bench"]
        let load = [("load average", "\(outcome.loadBefore) before, \(outcome.loadAfter) after")]
        for (name, value) in config + load {
            lines.append("  \(name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(value)")
        }
        lines.append("")
        let header = ["W", "secs", "sent", "acked", "sends/s", "dlv/s", "gw cpu/M", "ack p50", "ack p99", "dlv p50",
                      "dlv p90", "dlv p99", "dlv max", "errors", "lost", "dup", "ooo", "gaps"]
        var rows = [header]
        for p in outcome.phases {
            rows.append([
                "\(p.inflight)", f(p.seconds, 1), "\(p.tally.sent)", "\(p.tally.acked)", f(p.sendsPerSecond, 0),
                f(p.deliveriesPerSecond, 0), p.gatewayCpuPerMillion.map { f($0, 2) } ?? "-",
                ms(p.ack.p50, of: p.ack), ms(p.ack.p99, of: p.ack), ms(p.delivery.p50, of: p.delivery),
                ms(p.delivery.p90, of: p.delivery), ms(p.delivery.p99, of: p.delivery), ms(p.delivery.max, of: p.delivery),
                "\(p.errorCount)", "\(p.lost)", "\(p.tally.duplicated)", "\(p.tally.outOfOrder)",
                "\(p.tally.gaps)",
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(row.indices.map { row[$0].padding(toLeft: widths[$0]) }.joined(separator: "  "))
        }
        lines.append("")
        lines.append("  latencies in ms; W = chat.send commands in flight per sender connection; sends/s = ok replies")
        lines.append("  over first send → last ok reply; dlv = chat.send written → message.new read at a receiver;")
        lines.append("  dlv/s = first-time message.new at every member connection over first send → last delivery;")
        lines.append("  gw cpu/M = the gateway's CPU seconds (user + system, /proc) per million deliveries.")
        for p in outcome.phases {
            var notes: [String] = []
            if !p.tally.errors.isEmpty {
                notes.append("errors " + p.tally.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
            if p.tally.unanswered > 0 { notes.append("\(p.tally.unanswered) sends unanswered") }
            if p.unacknowledgedDeliveries > 0 { notes.append("\(p.unacknowledgedDeliveries) deliveries of unacknowledged sends") }
            if p.mismatched > 0 { notes.append("\(p.mismatched) seqs delivered or acknowledged for another message") }
            if p.tally.duplicateAcks > 0 { notes.append("\(p.tally.duplicateAcks) duplicate acks") }
            if let example = p.tally.disorderExample { notes.append("first disorder: \(example)") }
            if p.tally.foreign > 0 { notes.append("\(p.tally.foreign) message.new not sent by this run") }
            if !notes.isEmpty { lines.append("  W=\(p.inflight): " + notes.joined(separator: "; ")) }
        }
        for close in outcome.closes { lines.append("  connection ended early: \(close)") }
        let deliveries = outcome.phases.reduce(0) { $0 + $1.tally.deliveries }
        lines.append(problems == 0
            ? "  verified: \(deliveries) deliveries, every acknowledged message delivered exactly once to every member, seqs gap-free and increasing"
            : "  VERIFICATION FAILED: \(problems) problems (lost, duplicated, out of order, gaps, mismatched, early closes)")
        return lines.joined(separator: "\n")
    }

    func json() throws -> Data {
        let phases: [[String: Any]] = outcome.phases.map { p in
            [
                "inflight": p.inflight, "seconds": p.seconds, "sent": p.tally.sent, "acked": p.tally.acked,
                "sends_per_second": p.sendsPerSecond, "errors": p.tally.errors, "unanswered": p.tally.unanswered,
                "delivery_seconds": p.deliverySeconds, "deliveries_per_second": p.deliveriesPerSecond,
                "gateway_cpu_seconds": p.gatewayCpuSeconds ?? NSNull(),
                "gateway_cpu_seconds_per_million_deliveries": p.gatewayCpuPerMillion ?? NSNull(),
                "duplicate_acks": p.tally.duplicateAcks,
                "ack_ms": percentiles(p.ack), "delivery_ms": percentiles(p.delivery),
                "deliveries": p.tally.deliveries, "lost": p.lost, "duplicated": p.tally.duplicated,
                "out_of_order": p.tally.outOfOrder, "gaps": p.tally.gaps, "mismatched": p.mismatched,
                "unacknowledged_deliveries": p.unacknowledgedDeliveries,
            ]
        }
        let object: [String: Any] = [
            "config": settings,
            "setup_seconds": outcome.setupSeconds,
            "load_average_before": outcome.loadBefore,
            "load_average_after": outcome.loadAfter,
            "phases": phases,
            "early_closes": outcome.closes,
            "verified": problems == 0,
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    private func percentiles(_ p: Percentiles) -> [String: Any] {
        ["count": p.count, "p50": p.p50, "p90": p.p90, "p99": p.p99, "max": p.max]
    }

    private func f(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    /// A latency for the table; "-" when nothing was measured (no receivers).
    private func ms(_ value: Double, of sample: Percentiles) -> String {
        sample.count == 0 ? "-" : String(format: value < 10 ? "%.2f" : "%.1f", value)
    }
}

extension String {
    func padding(toLeft width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
