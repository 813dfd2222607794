import ArgumentParser
import BrookClient

/// `brook groups`: consumer-group administration in the manner of kafka-consumer-groups.
struct GroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "List, describe (with lag), reset the offsets of, and delete consumer groups.",
        subcommands: [ListGroups.self, DescribeGroup.self, ResetOffsets.self, DeleteGroup.self]
    )
}

/// The connection options every group command takes: the same as the admin commands'
/// (``AdminOptions``), so a silent broker cannot hang a command past `--timeout-ms`.
typealias BootstrapOptions = AdminOptions

extension GroupsCommand {
    /// `brook groups list`.
    struct ListGroups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the consumer groups.")

        @OptionGroup var bootstrap: BootstrapOptions
        @Flag(help: "Also print each group's state.") var state = false
        @Flag(help: "Also print each group's type (classic or consumer).") var type = false

        func run() async throws {
            let groups = try await bootstrap.withCluster { try await GroupAdmin(cluster: $0).list() }
            guard state || type else {
                groups.forEach { print($0.groupId) }
                return
            }
            var header = ["GROUP"]
            if type { header.append("TYPE") }
            if state { header.append("STATE") }
            let rows = groups.map { group -> [String] in
                var row = [group.groupId]
                if type { row.append(group.type.capitalized) }
                if state { row.append(group.state) }
                return row
            }
            print(TextTable(header: header, rows: rows).rendered)
        }
    }

    /// `brook groups delete`.
    struct DeleteGroup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete empty consumer groups and their offsets.")

        @OptionGroup var bootstrap: BootstrapOptions
        @Option(name: .customLong("group"), help: "A group to delete (repeatable).") var groups: [String]

        func run() async throws {
            let failures = try await bootstrap.withCluster { cluster in
                var failures: [(String, any Error)] = []
                for group in groups {
                    do {
                        try await GroupAdmin(cluster: cluster).delete(group)
                    } catch {
                        failures.append((group, error))
                    }
                }
                return failures
            }
            guard failures.isEmpty else {
                print("Error: Deletion of some consumer groups failed:")
                for (group, error) in failures { print("* Group '\(group)' could not be deleted due to: \(error)") }
                throw ExitCode.failure
            }
            print("Deletion of requested consumer groups (\(groups.map { "'\($0)'" }.joined(separator: ", "))) was successful.")
        }
    }
}

extension String {
    var capitalized: String { prefix(1).uppercased() + dropFirst() }
}
