import CGatewayShims
import CLibWebSockets
import Foundation
import Synchronization

/// The thread that owns one libwebsockets context, its epoll loop (`sg_loop`,
/// see `loop.c`), and the one inbox through which other threads reach it.
///
/// It is also the serial executor of the actor that owns the context's state
/// (`GatewayServer`, `WebSocketClientLoop`): Swift jobs enqueued on that actor
/// run on this thread between socket events, so code that hops onto the actor
/// with `await` needs no lock, and the compiler checks that nothing else
/// touches its state. lws callbacks, which arrive on this thread outside any
/// job, enter the actor with `assumeIsolated` (`checkIsolated` below says yes
/// on this thread only).
///
/// Hot hand-offs (a command's reply from the store's thread, bus deliveries)
/// are `Work` items posted to the inbox rather than Swift jobs: one lock and,
/// when the inbox was empty, one `eventfd` write; no task, no allocation of a
/// job. A post from this thread itself never wakes it (the loop drains the
/// inbox before it waits again).
///
/// `@unchecked Sendable` (required of an executor): `raw` and `thread` are
/// written once, before other threads can see the loop, and `raw` is used only
/// on this thread except by `sg_loop_wake`, which is thread-safe; the inbox is
/// a `Mutex`.
final class ServiceLoop<Work: Sendable>: SerialExecutor, @unchecked Sendable {
    private enum Item {
        case job(UnownedJob)
        case work(Work)
    }

    /// The C loop (epoll set, wake-up eventfd).
    let raw: OpaquePointer
    private let inbox = Mutex<[Item]>([])
    private var thread = pthread_t()
    private var started = false

    /// - Throws: when the epoll set or the eventfd cannot be made.
    init() throws {
        guard let raw = sg_loop_new() else { throw ServerStartError("cannot create the epoll service loop") }
        self.raw = raw
    }

    deinit { sg_loop_free(raw) }

    /// Starts the service thread running `body` (which creates the context,
    /// then loops on `runOnce`). Call once, before anything is posted.
    func start(name: String, body: @escaping @Sendable () -> Void) {
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            self.thread = pthread_self()
            self.started = true
            ready.signal()
            body()
        }
        thread.name = name
        thread.stackSize = 4 << 20
        thread.start()
        ready.wait()
    }

    /// Whether the caller runs on the service thread.
    var isServiceThread: Bool { started && pthread_equal(thread, pthread_self()) != 0 }

    /// Queues `work` for the service thread and wakes it. Any thread.
    func post(_ work: Work) {
        append(.work(work))
    }

    private func append(_ item: Item) {
        let wasEmpty = inbox.withLock { items in
            items.append(item)
            return items.count == 1
        }
        if wasEmpty, !isServiceThread { sg_loop_wake(raw) }
    }

    /// Runs every queued Swift job and hands every queued work item to
    /// `handle`, in the order they were posted, until the inbox is empty.
    /// Service thread.
    func drain(_ handle: (Work) -> Void) {
        while true {
            let items = inbox.withLock { items in
                let taken = items
                items.removeAll(keepingCapacity: true)
                return taken
            }
            if items.isEmpty { return }
            for item in items {
                switch item {
                case .job(let job): job.runSynchronously(on: asUnownedSerialExecutor())
                case .work(let work): handle(work)
                }
            }
        }
    }

    /// Waits up to `timeoutMs` (-1: no limit) for sockets or a wake-up and
    /// services them. False when lws failed (the context is unusable). Service thread.
    func runOnce(timeoutMs: Int32) -> Bool {
        sg_loop_run_once(raw, timeoutMs) >= 0
    }

    /// lws's own timers (handshake and close timeouts): about once a second. Service thread.
    func housekeep() {
        _ = sg_loop_housekeep(raw)
    }

    // MARK: SerialExecutor

    func enqueue(_ job: consuming ExecutorJob) {
        append(.job(UnownedJob(job)))
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func checkIsolated() {
        precondition(isServiceThread, "not on the service thread of this lws context")
    }

    func isIsolatingCurrentContext() -> Bool? {
        isServiceThread
    }
}
