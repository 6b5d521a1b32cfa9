// Args and results of the `group.*` and `groups.list` ops. `protocol/ops.md`
// documents each field; the schemas in `protocol/schemas/` match these types.

public struct GroupCreateArgs: Codable, Sendable, Equatable {
    public var title: String
    /// Anyone may join without an invitation. Default false (invite-only).
    public var open: Bool?
    public init(title: String, open: Bool? = nil) { self.title = title; self.open = open }
}

/// Args of ops that name only a group: `group.join`, `group.leave`, `group.info`.
public struct GroupRef: Codable, Sendable, Equatable {
    public var groupId: String
    public init(groupId: String) { self.groupId = groupId }
    enum CodingKeys: String, CodingKey { case groupId = "group_id" }
}

/// Args of ops on a group and one user: `group.invite`, `group.kick`, `group.transfer`.
public struct GroupUserArgs: Codable, Sendable, Equatable {
    public var groupId: String
    public var userId: String
    public init(groupId: String, userId: String) { self.groupId = groupId; self.userId = userId }
    enum CodingKeys: String, CodingKey { case groupId = "group_id", userId = "user_id" }
}

public struct GroupSetRoleArgs: Codable, Sendable, Equatable {
    public var groupId: String
    public var userId: String
    /// `admin` or `member` (ownership moves only with `group.transfer`).
    public var role: String
    public init(groupId: String, userId: String, role: String) {
        self.groupId = groupId
        self.userId = userId
        self.role = role
    }
    enum CodingKeys: String, CodingKey { case groupId = "group_id", userId = "user_id", role }
}

public struct GroupRenameArgs: Codable, Sendable, Equatable {
    public var groupId: String
    public var title: String
    public init(groupId: String, title: String) { self.groupId = groupId; self.title = title }
    enum CodingKeys: String, CodingKey { case groupId = "group_id", title }
}

/// Result of `group.create` and `group.join`.
public struct GroupResult: Codable, Sendable, Equatable {
    public var group: WireChat
    public init(group: WireChat) { self.group = group }
}

/// Result of `group.info`.
public struct GroupInfoResult: Codable, Sendable, Equatable {
    public var group: WireChat
    public var members: [WireMember]
    public init(group: WireChat, members: [WireMember]) { self.group = group; self.members = members }
}

/// Result of `groups.list`.
public struct GroupsListResult: Codable, Sendable, Equatable {
    public var groups: [WireChat]
    public var invitations: [WireInvitation]
    public init(groups: [WireChat], invitations: [WireInvitation]) {
        self.groups = groups
        self.invitations = invitations
    }
}

/// Result of ops that record a change as a system message: `group.invite`,
/// `group.leave`, `group.kick`, `group.set_role`, `group.transfer`, `group.rename`.
public struct SystemMessageResult: Codable, Sendable, Equatable {
    public var message: WireMessage
    public init(message: WireMessage) { self.message = message }
}
