import Foundation
import SocialCore
import SocialProtocol

// Presence watches (`presence.subscribe`): per session, like chats, but
// granted by the store (users who share a chat may watch each other) and
// ended, on every node, when the two no longer share one.
//
// - A `presence.subscribe` makes its watches provisional before it runs
//   (`beginWatch`): the node subscribes to the users' presence topics, and the
//   command runs once the bus delivers them here. Its store check and the
//   presence in its reply are then read after the subscription is in effect,
//   so a later change or departure of those users cannot slip by unseen.
// - While provisional, a watch keeps the latest `presence` frame (each carries
//   the whole presence) and notes a departure; `settleWatches` keeps the
//   granted ones, and the held frames go out after the reply.
// - A membership that ends reaches the sessions concerned through the bus: the
//   leaving user's sessions by `chat.removed` on their user topic, the
//   sessions watching them by a departure on their presence topic (published
//   with the change by the dispatcher). `recheckWatches` asks the store, off
//   this thread, and the watches it denies end with a `presence.revoked` event.
// - A bus interruption may have hidden departures: every watch is checked again.

/// A watch asked for by a `presence.subscribe` still running.
struct PendingWatch {
    /// The watched user left a chat meanwhile: check again once granted.
    var departed = false
    /// The latest `presence` frame for the user, sent after the reply.
    var latest: [UInt8]?
}

extension GatewayServer {
    /// A `presence.subscribe` is about to run: the session follows its users'
    /// presence topics provisionally (those it does not watch yet, within
    /// `maxPresenceWatches`). Returns whether it began any, in which case the
    /// command runs once the bus has them. Service thread.
    func beginWatch(_ session: Session, _ args: PresenceUsersArgs) -> Bool {
        guard let users = dispatcher.limits.watchCandidates(args.userIds) else { return false }
        let room = settings.maxPresenceWatches - session.presenceWatches
        for user in users where session.pendingWatches.count < room {
            guard !session.topics.contains(.presence(user)), session.pendingWatches[user] == nil else { continue }
            session.pendingWatches[user] = PendingWatch()
            applyInterest(hub.subscribe(session.id, to: .presence(user)))
        }
        return !session.pendingWatches.isEmpty
    }

    /// The `presence.subscribe` finished and its granted watches are the
    /// session's (`subscribe` ran for them): the other provisional ones end.
    /// Returns the frames held for the granted ones, to send after the reply,
    /// and checks again those whose user left a chat meanwhile. Service thread.
    func settleWatches(_ session: Session) -> [[UInt8]] {
        guard !session.pendingWatches.isEmpty else { return [] }
        var held: [[UInt8]] = []
        var departed: [UserID] = []
        for (user, watch) in session.pendingWatches {
            if session.topics.contains(.presence(user)) {
                if let frame = watch.latest { held.append(frame) }
                if watch.departed { departed.append(user) }
            } else {
                applyInterest(hub.unsubscribe(session.id, from: .presence(user)))
            }
        }
        session.pendingWatches = [:]
        recheckWatches([(session, departed)])
        return held
    }

    /// An event on a user's presence topic: a `presence` frame for the
    /// sessions watching them, or a departure (`subscription` with `joined`
    /// false: they left a chat) that makes those watches be checked again. Service thread.
    func presenceArrived(_ event: BusEvent, of user: UserID, to targets: Set<UInt64>) {
        let departure = event.subscription?.joined == false
        var recheck: [(Session, [UserID])] = []
        for id in targets {
            guard let session = sessions[id] else { continue }
            if session.pendingWatches[user] != nil {
                if departure {
                    session.pendingWatches[user]?.departed = true
                } else if !event.frame.isEmpty {
                    session.pendingWatches[user]?.latest = event.frame
                }
            } else if departure {
                if session.caller.userId != user { recheck.append((session, [user])) }
            } else if !event.frame.isEmpty {
                counts.eventsQueued += 1
                enqueue(session, event.frame, ephemeral: event.ephemeral)
            }
        }
        recheckWatches(recheck)
    }

    /// The user of these sessions left a chat (`chat.removed`): each of their
    /// watches is checked again. Service thread.
    func userLeftChat(_ ids: some Collection<UInt64>) {
        var recheck: [(Session, [UserID])] = []
        for id in ids {
            guard let session = sessions[id] else { continue }
            for user in session.pendingWatches.keys { session.pendingWatches[user]?.departed = true }
            recheck.append((session, session.watchedOthers))
        }
        recheckWatches(recheck)
    }

    /// After a bus interruption: departures may have been lost, so every
    /// watch of this node is checked again. Service thread.
    func recheckAllWatches() {
        var recheck: [(Session, [UserID])] = []
        for session in sessions.values {
            for user in session.pendingWatches.keys { session.pendingWatches[user]?.departed = true }
            let watched = session.watchedOthers
            if !watched.isEmpty { recheck.append((session, watched)) }
        }
        recheckWatches(recheck)
    }

    /// Asks the store, in one task off this thread, whether each session's
    /// user may still see the users given (one store check per watching user,
    /// for all their sessions here), then ends the watches it may not. When
    /// the store fails the watches end anyway (`unverified`): presence is not
    /// shown on a check that could not be made. Service thread.
    func recheckWatches(_ checks: [(Session, [UserID])]) {
        var byWatcher: [UserID: (sessions: [UInt64], users: Set<UserID>)] = [:]
        for (session, users) in checks where !users.isEmpty {
            byWatcher[session.caller.userId, default: ([], [])].sessions.append(session.id)
            byWatcher[session.caller.userId, default: ([], [])].users.formUnion(users)
        }
        guard !byWatcher.isEmpty else { return }
        let batches = byWatcher.map { (watcher: $0.key, sessions: $0.value.sessions, users: $0.value.users.sorted()) }
        let dispatcher = self.dispatcher
        let logger = self.logger
        Task.detached { [weak self] in
            for batch in batches {
                let revoked: [UserID]
                let reason: String
                do {
                    revoked = try await dispatcher.presenceRevoked(batch.users, for: batch.watcher)
                    reason = PresenceRevokedReason.noSharedChat
                } catch {
                    logger.warning("presence watches ended unchecked: the store did not answer", metadata: [
                        "user": "\(batch.watcher)", "watched": "\(batch.users.count)", "error": "\(error)"])
                    revoked = batch.users
                    reason = PresenceRevokedReason.unverified
                }
                guard !revoked.isEmpty else { continue }
                await self?.endWatches(batch.sessions, users: revoked, reason: reason)
            }
        }
    }

    /// Ends the sessions' watches of `users` (those they still hold) and
    /// tells each session which ended. Service thread.
    func endWatches(_ ids: [UInt64], users: [UserID], reason: String) {
        for id in ids {
            guard let session = sessions[id], session.phase != .closing else { continue }
            let ended = users.filter { session.topics.contains(.presence($0)) }
            guard !ended.isEmpty else { continue }
            for user in ended { unsubscribe(session, from: .presence(user)) }
            stats.add(.presenceWatchesRevoked, ended.count)
            enqueue(session, Codec.push(EventName.presenceRevoked, PresenceRevokedEvent(userIds: ended, reason: reason)),
                    ephemeral: false)
        }
    }
}

/// The reasons of `presence.revoked` (protocol/events.md).
enum PresenceRevokedReason {
    static let noSharedChat = "no_shared_chat"
    static let unverified = "unverified"
}
