extension GatewayServer {
    /// Counts the sessions in each phase for `social_connections{state}`.
    /// Once a second, from `tick` (it walks every session, so not on every
    /// change of phase). Service thread.
    func recordConnectionStates() {
        var byPhase: [Session.Phase: Int] = [:]
        for session in sessions.values { byPhase[session.phase, default: 0] += 1 }
        stats.setConnections(byPhase)
    }
}
