import SocialCore

/// The checks every `ChatStore` passes, whatever its backend. Test targets run
/// each check against a factory of fresh, empty stores:
///
/// ```swift
/// @Test(arguments: StoreContract.checks)
/// func memory(_ check: StoreContract.Check) async throws {
///     try await check.run { MemoryChatStore() }
/// }
/// ```
///
/// The checks do not import a test framework: a failed expectation throws a
/// `ContractFailure` naming the check, file and line, which the test reports.
///
/// Where the `ChatStore` documentation leaves room, the checks pin down one
/// reading so every backend agrees:
/// - Lookups returning optionals return nil for an unknown chat; every other
///   call on an unknown chat fails `not_found`, as does `unread` for a
///   non-member. A chat-log change (`submit`) is checked by `LogRules` inside
///   the store: by a non-member it is `forbidden`, and a refused change
///   stores nothing and takes no seq. Errors are compared by their wire code
///   (`LogRules.errorCode(of:)`): a rule's error and a `StoreError` of the same
///   kind are the same refusal.
/// - A `join` sets the new member's read marker at the join's message.
/// - Changes submitted back to back from one thread apply, take seqs and
///   complete in submission order (refused ones too, in their place).
/// - Membership changes apply to groups only: on a direct chat they are a conflict.
/// - A direct chat has no system message (its seq starts at 0); a user cannot
///   open a direct chat with themself (conflict).
/// - `history` with both `before` and `after` returns the first `limit`
///   messages strictly between them.
/// - `members` is ordered by user id; `reactions(of:)` lists emoji sorted.
/// - `delete` clears text, attachments and data, and keeps reaction counts.
public enum StoreContract {
    /// Makes a fresh, empty store. Called once per check.
    public typealias Factory = () async throws -> any ChatStore

    /// One named check of the contract.
    public typealias Check = ContractCheck<any ChatStore>

    /// Every check, in a stable order.
    public static let checks: [Check] = messageChecks + editChecks + readingChecks + membershipChecks + directChecks
        + ruleChecks
}
