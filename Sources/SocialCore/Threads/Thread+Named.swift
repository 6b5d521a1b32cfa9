import Foundation

extension Thread {
    /// Starts a thread that runs `body` under `name`: Foundation's name, and
    /// the kernel's (`/proc/thread-self/comm`, which keeps 15 bytes), the one
    /// `top -H`, `perf` and `/proc/<pid>/task/*/comm` show. Any thread.
    ///
    /// Every long-lived thread of the gateway starts here, so a profile names
    /// each one (`sqlite-writer`, `mongo-worker-0`, the lws service loop…).
    /// - Parameters:
    ///   - name: at most 15 bytes are kept by the kernel.
    ///   - stackSize: in bytes; nil keeps Foundation's default.
    ///   - body: runs on the new thread; the thread ends when it returns.
    public static func startNamed(_ name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            _ = try? String(name.utf8.prefix(15))?.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            body()
        }
        thread.name = name
        if let stackSize { thread.stackSize = stackSize }
        thread.start()
    }
}
