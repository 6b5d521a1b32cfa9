import CLibWebSockets

/// A retry-and-idle policy with lws's connection-validity timers off (no
/// validity ping, no validity hang-up): the server's `tick` and the clients'
/// callers run their own pings and idle timeouts. lws keeps those timers in
/// one sorted list per service thread, so with them on (lws's default: 300 s
/// and 310 s) every new or confirmed connection walks the whole list: at
/// 12 000 connections that took a third of the service thread. Allocated
/// once, never freed, never written after initialisation (hence
/// `nonisolated(unsafe)`); lws keeps a pointer to it.
nonisolated(unsafe) let noValidityPolicy: UnsafeMutablePointer<lws_retry_bo_t> = {
    let policy = UnsafeMutablePointer<lws_retry_bo_t>.allocate(capacity: 1)
    policy.initialize(to: lws_retry_bo_t())
    return policy
}()
