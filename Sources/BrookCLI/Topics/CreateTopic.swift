import ArgumentParser
import BrookClient
import BrookProtocol

extension TopicsCommand {
    /// `brook topics create`: prints `Created topic T.`; with `--if-not-exists` an existing topic
    /// is no error and prints nothing. A name with a '.' or '_' first gets kafka-topics' warning
    /// that such names can collide in metric names.
    struct CreateTopic: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a topic.")

        @OptionGroup var connection: AdminOptions
        @Option(name: .customLong("topic"), help: "The topic to create.") var topic: String
        @Option(name: .customLong("partitions"), help: "The number of partitions (default: the broker's num.partitions).") var partitions: Int32?
        @Option(name: .customLong("replication-factor"), help: "The replication factor (default: the broker's default.replication.factor).")
        var replicationFactor: Int?
        @Option(name: .customLong("config"), help: "A topic config override, key=value (repeatable).") var configs: [String] = []
        @Flag(name: .customLong("if-not-exists"), help: "Do nothing when the topic exists.") var ifNotExists = false

        func run() async throws {
            if let replicationFactor, !(1...Int(Int16.max)).contains(replicationFactor) {
                throw CommandFailure("The replication factor must be between 1 and \(Int16.max) inclusive")
            }
            if let partitions, partitions < 1 { throw CommandFailure("The partitions must be greater than 0") }
            var overrides: [String: String] = [:]
            for config in configs {
                let parts = config.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = parts[0].filter { $0 != " " }
                guard parts.count == 2, !key.isEmpty else {
                    throw CommandFailure("Invalid topic config '\(config)': all configs to be added must be in the format \"key=val\".")
                }
                overrides[key] = String(parts[1]).trimmingSpaces
            }
            if topic.contains(".") || topic.contains("_") {
                print("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. "
                    + "To avoid issues it is best to use either, but not both.")
            }
            let newTopic = TopicAdmin.NewTopic(
                name: topic, partitions: partitions, replicationFactor: replicationFactor.map(Int16.init), configs: overrides
            )
            let tolerateExisting = ifNotExists
            let created = try await connection.withCluster { cluster in
                do {
                    try await TopicAdmin(cluster: cluster).create(newTopic)
                    return true
                } catch ClientError.broker(.topicAlreadyExists, _) where tolerateExisting {
                    return false
                }
            }
            if created { print("Created topic \(topic).") }
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces.
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
