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

    /// A repeatable flag's values from one variable, separated by spaces or newlines.
    static func list(_ name: String) -> [String] {
        (string(name) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
    }

    /// The help suffix naming a flag's variable.
    static func note(_ name: String) -> String { "[env: \(prefix)\(name)]" }
}
