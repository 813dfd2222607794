import ArgumentParser
import BrookClient

/// `brook cluster`: the cluster's identity and membership, as kafka-cluster.sh `cluster-id`
/// and Kafka's `Admin.describeCluster` report them.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Describe the cluster: its id, controller and brokers.",
        subcommands: [DescribeCluster.self, ClusterId.self, RebalanceCluster.self]
    )
}

extension ClusterCommand {
    /// `brook cluster describe`:
    ///
    ///     Cluster ID: MkU3OEVBNTcwNTJENDM2Qg
    ///     Controller ID: 1
    ///     BROKER-ID  HOST       PORT  RACK  STATE
    ///     1          127.0.0.1  9092  -     registered
    ///
    /// `Controller ID: none` when the cluster names no controller, `-` for a broker without rack.
    /// A Brook cluster lists every registered broker with its state: `registered` (serving),
    /// `fenced` (not caught up, or its session expired) or `controlled-shutdown`.
    struct DescribeCluster: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(commandName: "describe", abstract: "Print the cluster id, the controller and the brokers.")

        @OptionGroup var connection: AdminOptions

        func run() async throws {
            let description = try await connection.withCluster { try await ClusterAdmin(cluster: $0).describe() }
            print("Cluster ID: \(description.clusterId)")
            print("Controller ID: \(description.controllerId.map(String.init) ?? "none")")
            print(TextTable(header: ["BROKER-ID", "HOST", "PORT", "RACK", "STATE"], rows: description.brokers.map {
                [String($0.id), $0.host, String($0.port), $0.rack ?? "-", $0.state.description]
            }).rendered)
        }
    }

    /// `brook cluster cluster-id`: `Cluster ID: ...`, as kafka-cluster.sh cluster-id.
    struct ClusterId: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(commandName: "cluster-id", abstract: "Print the cluster id.")

        @OptionGroup var connection: AdminOptions

        func run() async throws {
            let description = try await connection.withCluster { try await ClusterAdmin(cluster: $0).describe() }
            print("Cluster ID: \(description.clusterId)")
        }
    }
}
