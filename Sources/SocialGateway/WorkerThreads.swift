import Foundation

/// The gateway's own threads still running, by name (Linux: each thread's
/// `/proc/self/task/<tid>/comm`, its name cut to 15 bytes). At a clean stop
/// there are none: the "stopped" log line says so, and the tests check it.
enum WorkerThreads {
    /// The name prefixes of the threads the gateway starts: the lws service
    /// thread, the stores', the bus's and presence's, the REST proxy's.
    static let prefixes = ["lws-service", "mongo-worker", "sqlite-", "redis-", "proxy-worker"]

    /// The names of the gateway's threads still alive after up to `timeout`
    /// seconds, sorted. A thread that was told to stop and is past its last
    /// line is given that moment to exit (a stop that is waited for ends
    /// before the thread itself does).
    static func alive(after timeout: Double) -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        var left = alive()
        while !left.isEmpty, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
            left = alive()
        }
        return left
    }

    /// The names of the gateway's threads alive now, sorted.
    static func alive() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { tid -> String? in
            guard let comm = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8) else { return nil }
            let name = comm.trimmingCharacters(in: .whitespacesAndNewlines)
            return prefixes.contains { name.hasPrefix($0) } ? name : nil
        }.sorted()
    }
}
