import SocialCore
import Synchronization

/// What `/readyz` says about the node's backends: each one's last probe.
///
/// The server starts the due probes once a second (`due`), each in a task of
/// its own, and reports their answers (`finished`). A backend whose probe has
/// run for `timeoutMs` without answering counts as not ready ("no answer"),
/// and no second probe of it starts while one runs: a database that hangs does
/// not make `/readyz` wait, nor pile up calls on the store's threads.
///
/// Threads: any; the state is under a `Mutex`. Times are monotonic milliseconds.
final class ReadinessProbe: Sendable {
    let checks: [BackendCheck]
    let timeoutMs: Int64
    private let state: Mutex<State>

    private struct State {
        var statuses: [BackendStatus]
        var runningSince: [Int64?]
        var stopped = false
    }

    /// - Parameters:
    ///   - checks: the backends, in the order `/readyz` lists them.
    ///   - timeoutMs: how long a probe may run before its backend counts as not ready.
    init(checks: [BackendCheck], timeoutMs: Int64 = 2_000) {
        self.checks = checks
        self.timeoutMs = timeoutMs
        state = Mutex(State(statuses: checks.map { BackendStatus(name: $0.name, ready: false, reason: "not probed yet") },
                            runningSince: checks.map { _ in nil }))
    }

    /// The probes to start now (those not running), marked as running since `now`.
    func due(now: Int64) -> [Int] {
        state.withLock { state in
            guard !state.stopped else { return [] }
            var due: [Int] = []
            for index in state.runningSince.indices where state.runningSince[index] == nil {
                state.runningSince[index] = now
                due.append(index)
            }
            return due
        }
    }

    /// Probe `index` answered: `reason` nil when its backend is ready.
    func finished(_ index: Int, reason: String?) {
        state.withLock { state in
            state.runningSince[index] = nil
            state.statuses[index].ready = reason == nil
            state.statuses[index].reason = reason
        }
    }

    /// Each backend's status at `now`: its last answer, or not ready when its
    /// probe has been running for `timeoutMs` or more.
    func report(now: Int64) -> [BackendStatus] {
        state.withLock { state in
            state.statuses.indices.map { index in
                if let since = state.runningSince[index], now - since >= timeoutMs {
                    return BackendStatus(name: state.statuses[index].name, ready: false,
                                         reason: "no answer for \(now - since) ms")
                }
                return state.statuses[index]
            }
        }
    }

    /// Whether every backend is ready at `now`.
    func isReady(now: Int64) -> Bool { report(now: now).allSatisfy(\.ready) }

    func stop() { state.withLock { $0.stopped = true } }
    var isStopped: Bool { state.withLock { $0.stopped } }
}
