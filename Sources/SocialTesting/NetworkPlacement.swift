/// Where a test process runs on the network: on this machine's loopback (the
/// default), or inside a network namespace of a `NetworkLab`, listening on an
/// address of that namespace. The test reaches a process in a namespace
/// through the lab's loopback forwarders, on the same port number.
public struct NetworkPlacement: Sendable, Equatable {
    /// The network namespace (`ip netns` name), nil for this machine's.
    public var namespace: String?
    /// The address the process listens on.
    public var host: String

    public init(namespace: String? = nil, host: String = "127.0.0.1") {
        self.namespace = namespace
        self.host = host
    }

    public static let loopback = NetworkPlacement()

    /// The executable and arguments that run `executable arguments` here:
    /// `nsenter --net=/run/netns/<name> -- executable arguments` inside a
    /// namespace (it enters the namespace and then becomes the program: same
    /// process, so signals reach the program itself).
    public func command(_ executable: String, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        guard let namespace else { return (executable, arguments) }
        return (NetworkLab.nsenter, ["--net=/run/netns/\(namespace)", "--", executable] + arguments)
    }
}
