import SocialCore

/// Membership changes: state, system messages and error cases.
extension StoreContract {
    static let membershipChecks: [Check] = [
        Check("each membership change writes its state and system message") { store in
            try await Fixture.group(store, "g", owner: "ann")
            var expectedSeq: Seq = 1
            /// Applies `change`, checks its system message, returns it.
            func apply(_ change: MembershipChange, now: Int64 = Fixture.now) async throws -> Message {
                let message = try await store.apply(change, to: "g", now: now)
                expectedSeq += 1
                try Expect.equal(message.seq, expectedSeq, "seq of \(change)")
                try Expect.equal(message.updatedSeq, expectedSeq, "updatedSeq of \(change)")
                try Expect.equal(message.senderKind, .system, "sender kind of \(change)")
                try Expect.equal(message.system, change.systemEvent, "event of \(change)")
                try Expect.equal(message.createdAt, now, "time of \(change)")
                try Expect.equal(try await store.message("g", seq: message.seq), message, "stored \(change)")
                try Expect.equal(try await store.chat("g")?.seq, expectedSeq, "chat seq after \(change)")
                return message
            }

            _ = try await apply(.invite(user: "bob", by: "ann"), now: Fixture.now + 1)
            try Expect.equal(try await store.invitation("g", "bob"),
                             Invitation(chatId: "g", userId: "bob", invitedBy: "ann", createdAt: Fixture.now + 1))
            try Expect.equal(try await store.invitations(of: "bob").map(\.chatId), ["g"])
            try await Expect.error(.conflict, "invite twice") {
                try await store.apply(.invite(user: "bob", by: "ann"), to: "g", now: Fixture.now)
            }

            let joined = try await apply(.join(user: "bob", role: .member), now: Fixture.now + 2)
            try Expect.equal(try await store.member("g", "bob"),
                             Member(chatId: "g", userId: "bob", role: .member, readSeq: joined.seq, joinedAt: Fixture.now + 2),
                             "the join sets the read marker at its own message")
            try Expect.equal(try await store.invitation("g", "bob"), nil, "join removes the invitation")
            try Expect.equal(try await store.invitations(of: "bob"), [])
            try await Expect.error(.conflict, "join as a member") {
                try await store.apply(.join(user: "bob", role: .member), to: "g", now: Fixture.now)
            }
            try await Expect.error(.conflict, "invite a member") {
                try await store.apply(.invite(user: "bob", by: "ann"), to: "g", now: Fixture.now)
            }

            _ = try await apply(.setRole(user: "bob", role: .admin, by: "ann"))
            try Expect.equal(try await store.member("g", "bob")?.role, .admin)

            _ = try await apply(.transfer(to: "bob", by: "ann"))
            try Expect.equal(try await store.chat("g")?.owner, "bob")
            try Expect.equal(try await store.member("g", "bob")?.role, .owner)
            try Expect.equal(try await store.member("g", "ann")?.role, .admin, "the previous owner becomes admin")

            _ = try await apply(.rename(title: "Trail crew", by: "bob"))
            try Expect.equal(try await store.chat("g")?.title, "Trail crew")

            _ = try await apply(.join(user: "cy", role: .member))
            _ = try await apply(.kick(user: "cy", by: "bob"))
            try Expect.equal(try await store.member("g", "cy"), nil)
            try Expect.equal(try await store.memberships(of: "cy"), [])

            _ = try await apply(.leave(user: "ann"))
            try Expect.equal(try await store.member("g", "ann"), nil)
            try Expect.equal(try await store.members("g").map(\.userId), ["bob"])

            for change: MembershipChange in [.leave(user: "ann"), .kick(user: "zed", by: "bob"),
                                             .setRole(user: "zed", role: .admin, by: "bob"),
                                             .transfer(to: "zed", by: "bob")] {
                try await Expect.error(.notFound, "\(change)") { try await store.apply(change, to: "g", now: Fixture.now) }
            }
            try Expect.equal(try await store.chat("g")?.seq, expectedSeq, "failed changes take no seq")
            try Expect.equal(try await store.chat("g")?.owner, "bob", "failed transfer changes nothing")
            let log = try await store.history("g", before: nil, after: nil, limit: 100)
            try Expect.equal(log.map(\.seq), Array(1...expectedSeq))
            try Expect.equal(log.compactMap(\.system?.action),
                             [.created, .invited, .joined, .roleChanged, .transferred, .renamed, .joined, .kicked, .left])
        },
        Check("members lists every member by user id; invitations list by chat id") { store in
            try await Fixture.group(store, "g", owner: "mia", members: ["zoe", "al"])
            try Expect.equal(try await store.members("g").map(\.userId), ["al", "mia", "zoe"])
            try Expect.equal(try await store.members("g").map(\.role), [.member, .owner, .member])
            try await Fixture.group(store, "b")
            try await Fixture.group(store, "a")
            _ = try await store.apply(.invite(user: "sam", by: "owner"), to: "b", now: Fixture.now)
            _ = try await store.apply(.invite(user: "sam", by: "owner"), to: "a", now: Fixture.now)
            _ = try await store.apply(.invite(user: "kim", by: "owner"), to: "a", now: Fixture.now)
            try Expect.equal(try await store.invitations(of: "sam").map(\.chatId), ["a", "b"])
            _ = try await store.apply(.join(user: "sam", role: .member), to: "a", now: Fixture.now)
            try Expect.equal(try await store.invitations(of: "sam").map(\.chatId), ["b"])
            try Expect.equal(try await store.invitation("a", "kim")?.invitedBy, "owner", "other invitations stay")
        },
        Check("concurrent joins of one user: one succeeds, the others conflict") { store in
            try await Fixture.group(store, "g")
            let outcomes = await withTaskGroup(of: Bool?.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        do {
                            _ = try await store.apply(.join(user: "bob", role: .member), to: "g", now: Fixture.now)
                            return true
                        } catch let error as StoreError where error.isConflict {
                            return false
                        } catch { return nil }
                    }
                }
                return await group.reduce(into: [Bool?]()) { $0.append($1) }
            }
            try Expect.equal(outcomes.filter { $0 == true }.count, 1, "successful joins")
            try Expect.equal(outcomes.filter { $0 == false }.count, 9, "conflicts")
            try Expect.equal(try await store.chat("g")?.seq, 2)
        },
    ]
}
