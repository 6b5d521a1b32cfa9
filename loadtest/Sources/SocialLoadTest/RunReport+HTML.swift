import Foundation

/// The self-contained HTML report: the summary table and line charts drawn
/// as inline SVG (no scripts, no external files), to open in a browser.
extension RunReport {
    func html() -> String {
        let t = outcome.timeline
        let throughput = chart(title: "Throughput per second", unit: "per second", series: [
            ("acks", "#1f77b4", t.map { Double($0.acked) }),
            ("deliveries", "#2ca02c", t.map { Double($0.delivered) }),
            ("errors", "#d62728", t.map { Double($0.errors) }),
        ])
        let connections = chart(title: "Open connections", unit: "connections", series: [("open", "#9467bd", t.map { Double($0.open) })])
        let latency = chart(title: "Latency per second", unit: "ms", series: [
            ("ack p50", "#aec7e8", t.map { $0.ack.ms(50) }),
            ("ack p99", "#1f77b4", t.map { $0.ack.ms(99) }),
            ("delivery p50", "#98df8a", t.map { $0.delivery.ms(50) }),
            ("delivery p99", "#2ca02c", t.map { $0.delivery.ms(99) }),
        ])
        let table = rows().map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined(separator: "\n")
        let percentiles = [("connect", tally.connect), ("ack", tally.ack), ("delivery", tally.delivery), ("resync", tally.resync)]
            .filter { $0.1.count > 0 }
            .map { name, l in
                "<tr><th>\(name)</th><td>\(l.count)</td>" + [50, 90, 99, 99.9].map { "<td>\(String(format: "%.2f", l.ms($0)))</td>" }.joined()
                    + "<td>\(String(format: "%.2f", l.maxMs))</td></tr>"
            }.joined(separator: "\n")
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>social-loadtest \(plan.scenario.rawValue)</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1000px; }
        table { border-collapse: collapse; margin-bottom: 1.5em; }
        th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid #ddd; vertical-align: top; }
        .ok { color: #2a7d2a; } .bad { color: #c0392b; }
        svg text { font-size: 11px; fill: #444; }
        </style></head><body>
        <h1>social-loadtest: \(escape(plan.scenario.rawValue))</h1>
        <p>\(escape(ISO8601DateFormatter().string(from: date)))\(label.isEmpty ? "" : " — " + escape(label))</p>
        <p class="\(verified ? "ok" : "bad")"><strong>\(verified ? "Verified: no message lost, duplicated or out of order." : "Verification failed: see the table.")</strong></p>
        <table>\(table)</table>
        <h2>Latency distribution (ms, HDR histogram)</h2>
        <table><tr><th></th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>
        \(percentiles)</table>
        \(throughput)
        \(latency)
        \(connections)
        <p>Seconds count from the start signal (after setup). Delivery latency: <code>chat.send</code> written → <code>message.new</code> read on another member's connection.</p>
        </body></html>
        """
    }

    /// A line chart of per-second series.
    private func chart(title: String, unit: String, series: [(String, String, [Double])]) -> String {
        let width = 900.0, height = 260.0, left = 60.0, bottom = 30.0, top = 30.0, right = 20.0
        let points = series.map(\.2.count).max() ?? 0
        guard points > 0 else { return "<h2>\(escape(title))</h2><p>No data.</p>" }
        let maxY = max(1e-9, series.flatMap(\.2).max() ?? 1) * 1.1
        let plotW = width - left - right, plotH = height - top - bottom
        func x(_ i: Int) -> Double { left + (points > 1 ? Double(i) / Double(points - 1) : 0.5) * plotW }
        func y(_ v: Double) -> Double { top + plotH - v / maxY * plotH }
        var svg = "<h2>\(escape(title))</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
        for tick in 0...4 {
            let v = maxY * Double(tick) / 4
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", left, y(v), width - right, y(v))
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 5, y(v) + 4) + format(v) + "</text>\n"
        }
        let step = max(1, points / 10)
        for i in stride(from: 0, to: points, by: step) {
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%ds</text>", x(i), height - 10, i)
        }
        svg += String(format: "<text x=\"%.1f\" y=\"14\">", left) + escape(unit) + "</text>\n"
        for (n, (name, color, values)) in series.enumerated() {
            let path = values.enumerated().map { String(format: "%.1f,%.1f", x($0.offset), y($0.element)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\" points=\"\(path)\"/>\n"
            svg += String(format: "<rect x=\"%.1f\" y=\"6\" width=\"10\" height=\"10\" fill=\"", left + 120 + Double(n) * 130) + color
                + String(format: "\"/><text x=\"%.1f\" y=\"15\">", left + 134 + Double(n) * 130) + escape(name) + "</text>\n"
        }
        return svg + "</svg>"
    }

    private func format(_ v: Double) -> String {
        v >= 10_000 ? String(format: "%.0fk", v / 1000) : v >= 10 ? String(format: "%.0f", v) : String(format: "%.2f", v)
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
