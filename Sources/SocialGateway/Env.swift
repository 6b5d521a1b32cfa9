import Foundation

/// Reads `SOCIAL_GATEWAY_<NAME>` environment variables: every flag's default
/// comes from its variable when set, so a flag on the command line wins.
enum Env {
    static let prefix = "SOCIAL_GATEWAY_"

    static func string(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[prefix + name].flatMap { $0.isEmpty ? nil : $0 }
    }

    static func string(_ name: String, _ fallback: String) -> String { string(name) ?? fallback }

    static func int(_ name: String, _ fallback: Int) -> Int { string(name).flatMap(Int.init) ?? fallback }

    /// The help suffix naming a flag's variable.
    static func note(_ name: String) -> String { "[env: \(prefix)\(name)]" }
}
