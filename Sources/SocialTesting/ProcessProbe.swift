import Foundation

/// What `/proc` says about a process of this machine (Linux): its CPU time,
/// its open descriptors and their limit; and `prlimit(1)` to change that limit
/// while it runs. For tests that check a server neither spins nor leaks.
public struct ProcessProbe: Sendable {
    public let pid: Int32

    public init(pid: Int32) { self.pid = pid }

    /// User plus system CPU seconds the process has used so far.
    public var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return 0 }
        // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU seconds per second over `seconds` of wall time (1.0 is one core, busy).
    public func cpuLoad(over seconds: Double) -> Double {
        let before = cpuSeconds
        let start = Date()
        Thread.sleep(forTimeInterval: seconds)
        return (cpuSeconds - before) / Date().timeIntervalSince(start)
    }

    /// Descriptors the process has open now.
    public var openDescriptors: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    /// The open-file limit in force: soft and hard (nil when unlimited or unreadable).
    public var openFileLimit: (soft: Int?, hard: Int?) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else { return (nil, nil) }
        let values = line.dropFirst("Max open files".count).split(separator: " ")
        return (values.count > 0 ? Int(values[0]) : nil, values.count > 1 ? Int(values[1]) : nil)
    }

    /// Whether `setOpenFileLimit` can work here (util-linux's `prlimit` is installed).
    public static var canSetLimits: Bool { FileManager.default.isExecutableFile(atPath: prlimitPath) }

    /// Sets the process's soft open-file limit (the hard one stays) with `prlimit --pid`.
    public func setOpenFileLimit(soft: Int) throws {
        let hard = openFileLimit.hard.map(String.init) ?? "unlimited"
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: Self.prlimitPath)
        tool.arguments = ["--pid", String(pid), "--nofile=\(soft):\(hard)"]
        try tool.run()
        tool.waitUntilExit()
        guard tool.terminationStatus == 0 else { throw MinterError("prlimit --nofile=\(soft):\(hard) failed") }
    }

    private static let prlimitPath = "/usr/bin/prlimit"
}
