import ArgumentParser
import BrookClient

/// `brook topics`: topic administration in the manner of kafka-topics.sh, one subcommand per
/// action (kafka-topics' `--create`, `--list`, `--describe`, `--alter`, `--delete`).
///
/// Errors (an unknown topic, an illegal name, an existing topic, an unreachable broker) are one
/// line on stderr, `Error: ` and the Kafka error's name with the broker's message, and exit
/// status 1.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Create, list, describe, alter (add partitions to) and delete topics.",
        subcommands: [CreateTopic.self, ListTopics.self, DescribeTopics.self, AlterTopic.self, DeleteTopic.self]
    )
}

extension TopicsCommand {
    /// `brook topics list`: one name a line, sorted; internal topics too unless
    /// `--exclude-internal`, as kafka-topics --list.
    struct ListTopics: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the topics.")

        @OptionGroup var connection: AdminOptions
        @Option(name: .customLong("topic"), help: "Only topics matching this regular expression.") var topic: String?
        @Flag(name: .customLong("exclude-internal"), help: "Leave out internal topics such as __consumer_offsets.") var excludeInternal = false

        func run() async throws {
            let selection = TopicSelection(pattern: topic, excludeInternal: excludeInternal)
            let names = try await connection.withCluster { try await selection.topics(in: $0, requireMatch: false) }
            names.forEach { print($0) }
        }
    }

    /// `brook topics delete`: deletes the topics `--topic` matches; prints nothing, as
    /// kafka-topics --delete.
    struct DeleteTopic: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete topics and their data.")

        @OptionGroup var connection: AdminOptions
        @Option(name: .customLong("topic"), help: "The topic to delete, or a regular expression matching the topics to delete.") var topic: String
        @Flag(name: .customLong("if-exists"), help: "Do nothing when no topic matches.") var ifExists = false

        func run() async throws {
            let selection = TopicSelection(pattern: topic, excludeInternal: false)
            let requireMatch = !ifExists
            try await connection.withCluster { cluster in
                let admin = TopicAdmin(cluster: cluster)
                for name in try await selection.topics(in: cluster, requireMatch: requireMatch) {
                    try await admin.delete(name)
                }
            }
        }
    }

    /// `brook topics alter --partitions N`: grows the matching topics to N partitions; prints
    /// nothing, as kafka-topics --alter.
    struct AlterTopic: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(
            commandName: "alter", abstract: "Add partitions to topics (configs are changed with `brook configs alter`)."
        )

        @OptionGroup var connection: AdminOptions
        @Option(name: .customLong("topic"), help: "The topic to alter, or a regular expression matching the topics to alter.") var topic: String
        @Option(name: .customLong("partitions"), help: "The new partition count; partitions are only ever added.") var partitions: Int32
        @Flag(name: .customLong("if-exists"), help: "Do nothing when no topic matches.") var ifExists = false

        func run() async throws {
            guard partitions >= 1 else { throw CommandFailure("The partitions must be greater than 0") }
            let selection = TopicSelection(pattern: topic, excludeInternal: false)
            let requireMatch = !ifExists
            let count = partitions
            try await connection.withCluster { cluster in
                let admin = TopicAdmin(cluster: cluster)
                for name in try await selection.topics(in: cluster, requireMatch: requireMatch) {
                    try await admin.createPartitions(name, totalCount: count)
                }
            }
        }
    }
}
