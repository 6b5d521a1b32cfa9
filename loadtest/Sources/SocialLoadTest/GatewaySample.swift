import Foundation

/// CPU time and resident memory of a local gateway process, read from
/// `/proc/<pid>/stat` and `/proc/<pid>/status` (Linux).
struct GatewaySample: Codable {
    /// User + system CPU seconds since the process started.
    var cpuSeconds: Double
    var rssBytes: Int

    static func read(pid: Int32) -> GatewaySample? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let rssKB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        return GatewaySample(cpuSeconds: (utime + stime) / ticks, rssBytes: rssKB * 1024)
    }
}
