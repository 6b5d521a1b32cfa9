import CGatewayShims
import CLibWebSockets
import Foundation
import SocialCore
import Synchronization

/// The thread that owns one libwebsockets context, its event loop (`sg_loop`:
/// a libuv loop of ours that lws watches its sockets on, with epoll; see
/// `loop.c`), and the one inbox through which other threads reach it.
///
/// It is also the serial executor of the actor that owns the context's state
/// (`GatewayServer`): Swift jobs enqueued on that actor run on this thread
/// between socket events, so code that hops onto the actor with `await` needs
/// no lock, and the compiler checks that nothing else touches its state. lws
/// callbacks and loop events, which arrive on this thread outside any job,
/// enter the actor with `assumeIsolated` (`checkIsolated` says yes on this
/// thread only).
///
/// Hot hand-offs (a command's reply from the store's thread, bus deliveries)
/// are `Work` items posted to the inbox rather than Swift jobs: one lock and,
/// when the inbox was empty, one wake-up (`uv_async_send`); no task, no job
/// allocation. A post from this thread itself wakes nothing: the loop drains
/// the inbox before it waits for I/O again (`SG_LOOP_PREPARE`).
///
/// `@unchecked Sendable` (required of an executor): `raw` and `thread` are
/// written once, before other threads can see the loop, and `raw` is used only
/// on this thread except by `sg_loop_wake`, which is thread-safe
/// (`uv_async_send`); the inbox is a `Mutex`, `selfPosted` is touched on this
/// thread only.
final class ServiceLoop<Work: Sendable>: SerialExecutor, @unchecked Sendable {
    private enum Item {
        case job(UnownedJob)
        case work(Work)
    }

    /// The C loop.
    let raw: OpaquePointer
    /// Queued items, and whether the loop still runs (a wake-up after it
    /// finished would touch a closed libuv handle: it is made under this lock).
    private let inbox = Mutex<(items: [Item], open: Bool)>(([], true))
    private var thread = pthread_t()
    private var started = false
    /// This thread posted to its own inbox since the last drain.
    private var selfPosted = false
    /// The owner's handling of loop events, set by `start`.
    private var events: LoopEvents?

    /// - Throws: when the loop cannot be allocated.
    init() throws {
        guard let raw = sg_loop_new() else { throw ServerStartError("cannot create the service loop") }
        self.raw = raw
    }

    deinit { sg_loop_free(raw) }

    /// Starts the service thread: it initialises the loop (a tick every
    /// `tickMs`), runs `setUp` (which creates the context; a throw stops the
    /// thread), then the loop until `stop`, then `finish` with the context to
    /// destroy. `event` handles wake-ups (drain the inbox), ticks and the
    /// deadline; `callback` the forwarded lws callbacks. Call once.
    func start(name: String, tickMs: UInt64, callback: sg_loop_callback_fn, callbackUser: UnsafeMutableRawPointer,
               event: @escaping (Int32) -> Void, setUp: @escaping () throws -> ContextHandle,
               failed: @escaping (any Error) -> Void, finished: @escaping () -> Void) {
        let events = LoopEvents(handle: event)
        self.events = events
        sg_loop_set_callback(raw, callback, callbackUser)
        sg_loop_set_events(raw, loopEvent, Unmanaged.passUnretained(events).toOpaque())
        let ready = DispatchSemaphore(value: 0)
        let body = ThreadHandoff { [self] in
            self.thread = pthread_self()
            self.started = true
            ready.signal()
            guard sg_loop_start(raw, tickMs) == 0 else {
                failed(ServerStartError("cannot start the libuv loop"))
                finished()
                return
            }
            let context: OpaquePointer?
            do {
                context = try setUp().pointer
                if let context { sg_loop_set_context(raw, context) }
            } catch {
                sg_loop_finish(raw, nil)
                failed(error)
                finished()
                return
            }
            sg_loop_run(raw)
            inbox.withLock { $0.open = false }  // posts from now on wait, unwoken, and are dropped with the loop
            sg_loop_finish(raw, context)
            finished()
        }
        Thread.startNamed(name, stackSize: 4 << 20) { body.take()() }
        ready.wait()
    }

    /// Whether the caller runs on the service thread.
    var isServiceThread: Bool { started && pthread_equal(thread, pthread_self()) != 0 }

    /// Queues `work` for the service thread and wakes it. Any thread.
    func post(_ work: Work) {
        append(.work(work))
    }

    private func append(_ item: Item) {
        let onThread = isServiceThread
        let raw = self.raw
        inbox.withLock { inbox in
            inbox.items.append(item)
            if !onThread, inbox.items.count == 1, inbox.open { sg_loop_wake(raw) }
        }
        if onThread { selfPosted = true }
    }

    /// Whether this thread posted work to itself since the last drain (the
    /// loop's prepare event drains only then). Service thread.
    var hasSelfPosted: Bool { selfPosted }

    /// Runs every queued Swift job and hands every queued work item to
    /// `handle`, in the order they were posted, until the inbox is empty.
    /// Service thread.
    func drain(_ handle: (Work) -> Void) {
        selfPosted = false
        while true {
            let items = inbox.withLock { inbox in
                let taken = inbox.items
                inbox.items.removeAll(keepingCapacity: true)
                return taken
            }
            if items.isEmpty { return }
            for item in items {
                switch item {
                case .job(let job): job.runSynchronously(on: asUnownedSerialExecutor())
                case .work(let work): handle(work)
                }
            }
            selfPosted = false
        }
    }

    /// Makes the loop return once the current callback is done. Service thread.
    func stop() {
        sg_loop_stop(raw)
    }

    /// How many times the listener rested because accept() failed (see loop.c). Service thread.
    var acceptRests: UInt64 { sg_loop_accept_rests(raw) }

    /// The owner's deadline event in `ms` milliseconds (nil: none). Service thread.
    func setDeadline(_ ms: Int64?) {
        sg_loop_set_deadline(raw, ms ?? -1)
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

/// The owner's handler of loop events, reached from C through an unretained
/// pointer (the loop keeps it alive). Used on the service thread only.
final class LoopEvents {
    let handle: (Int32) -> Void
    init(handle: @escaping (Int32) -> Void) { self.handle = handle }
}

/// A loop event from `sg_loop` (wake-up, prepare, tick, deadline). Service thread.
private func loopEvent(_ user: UnsafeMutableRawPointer?, _ event: Int32) {
    guard let user else { return }
    Unmanaged<LoopEvents>.fromOpaque(user).takeUnretainedValue().handle(event)
}

/// An lws context made on the service thread, handed back to the loop that
/// destroys it there. `@unchecked Sendable`: it never leaves that thread; the
/// wrapper only carries it out of the owner's isolation, on the same thread.
struct ContextHandle: @unchecked Sendable {
    let pointer: OpaquePointer?
}

