import ArgumentParser
import BrookClient
import BrookModel

extension GroupsCommand {
    /// `brook groups describe`: by default each partition's committed offset, log end and lag
    /// with the member that owns it; `--members` lists members, `--state` the group's state.
    struct DescribeGroup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "describe", abstract: "Describe consumer groups: offsets and lag, members, or state."
        )

        @OptionGroup var bootstrap: BootstrapOptions
        @Option(name: .customLong("group"), help: "A group to describe (repeatable).") var groups: [String]
        @Flag(help: "List the members and how many partitions each holds.") var members = false
        @Flag(help: "Print the group's state, assignor and member count.") var state = false

        func run() async throws {
            try await bootstrap.withCluster { cluster in
                let admin = GroupAdmin(cluster: cluster)
                for group in groups {
                    let description = try await admin.describe(group)
                    if description.state == "Dead" {
                        print("Error: Consumer group '\(group)' does not exist.")
                        throw ExitCode.failure
                    }
                    if state {
                        print(TextTable(header: ["GROUP", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"], rows: [
                            [group, description.assignor.isEmpty ? "-" : description.assignor, description.state, String(description.members.count)],
                        ]).rendered)
                    } else if members {
                        print(TextTable(header: ["GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS"],
                                        rows: description.members.map {
                            [group, $0.memberId, $0.instanceId ?? "-", $0.host, $0.clientId, String($0.partitions.count)]
                        }).rendered)
                    } else {
                        try await printOffsets(group: group, description: description, cluster: cluster)
                    }
                    print("")
                }
            }
        }

        private func printOffsets(group: String, description: GroupAdmin.Description, cluster: Cluster) async throws {
            let committed = try await GroupAdmin(cluster: cluster).committedOffsets(group)
            var owners: [TopicPartition: GroupAdmin.Member] = [:]
            for member in description.members { for partition in member.partitions { owners[partition] = member } }
            let partitions = Set(committed.keys).union(owners.keys).sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
            let ends = try await OffsetLookup(cluster: cluster).offsets(partitions, .latest)
            if description.members.isEmpty { print("Consumer group '\(group)' has no active members.\n") }
            let rows = partitions.map { partition -> [String] in
                let current = committed[partition]
                let end = ends[partition]
                let lag = current.flatMap { current in end.map { String(max(0, $0 - current)) } } ?? "-"
                let owner = owners[partition]
                return [group, partition.topic, String(partition.partition), current.map(String.init) ?? "-",
                        end.map(String.init) ?? "-", lag, owner?.memberId ?? "-", owner?.host ?? "-", owner?.clientId ?? "-"]
            }
            print(TextTable(header: ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"],
                            rows: rows).rendered)
        }
    }
}
