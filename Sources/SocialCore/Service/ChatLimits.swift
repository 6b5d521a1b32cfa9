/// Every limit the chat service holds commands to, with its default.
///
/// Which error a broken limit gives (as `protocol/README.md#limits` states):
/// content that is too big (text, title, attachments, JSON payloads) is
/// `too_large`; a malformed or out-of-range field (an empty title, a bad kind
/// or emoji, an id or `client_msg_id` of the wrong length, a page `limit`
/// below 1) is `invalid_args`; a full group is `conflict`. The error message
/// names the field. Page sizes above their maximum are lowered to it.
public struct ChatLimits: Sendable, Equatable {
    /// Most UTF-8 bytes of a message's `text` (send and edit).
    public var maxTextBytes = 4096
    /// A group title's length in Unicode code points, after trimming surrounding whitespace.
    public var titleLength: ClosedRange<Int> = 1...200
    /// A message `kind`'s length; kinds are made of `[a-z0-9_.-]`.
    public var kindLength: ClosedRange<Int> = 1...32
    /// Most attachments on one message.
    public var maxAttachments = 10
    /// Most UTF-8 bytes of an attachment's `url`, which must be `http://` or `https://`.
    public var maxAttachmentURLBytes = 2048
    /// Most bytes of a message's `data` or an attachment's `meta`, as encoded JSON (approximately).
    public var maxJSONBytes = 4096
    /// A `client_msg_id`'s length in UTF-8 bytes.
    public var clientMsgIdBytes: ClosedRange<Int> = 1...64
    /// A reaction emoji's length in UTF-8 bytes; no whitespace or control characters.
    public var emojiBytes: ClosedRange<Int> = 1...32
    /// The length in UTF-8 bytes of a chat, group or user id given in args.
    public var idBytes: ClosedRange<Int> = 1...128
    /// `chat.history` page size when the client gives none.
    public var defaultHistoryLimit = 50
    /// Largest `chat.history` page.
    public var maxHistoryLimit = 100
    /// Changes per `sync` call when the client gives no `limit`.
    public var defaultSyncLimit = 200
    /// Most changes per `sync` call.
    public var maxSyncLimit = 1000
    /// Shortest interval between two broadcast typing indicators of one
    /// (user, device, chat), in milliseconds; more frequent ones are dropped.
    public var typingIntervalMs: Int64 = 2000
    /// Most (user, device, chat) entries the typing throttle remembers. Entries
    /// older than `typingIntervalMs` are evicted; while the table is full of
    /// fresh entries, indicators from new keys are dropped (they are ephemeral).
    public var typingTableCapacity = 100_000
    /// Most members of a group, enforced on `group.join` and `group.invite`.
    public var maxGroupMembers = 10_000
    /// Most chats one bot account may be a member of, enforced on its `group.join`.
    public var botMaxChats = 100

    /// How long a session's presence lasts unless its node refreshes it: a node
    /// that dies takes its users offline after this (plus one sweep, 2 s).
    public var presenceTTLMs: Int64 = 30_000
    /// Users named in one `presence.*` call.
    public var maxPresenceUsers = 100
    /// Length of a training activity, `[a-z0-9_-]`.
    public var activityLength: ClosedRange<Int> = 1...32

    /// The defaults above.
    public init() {}
}
