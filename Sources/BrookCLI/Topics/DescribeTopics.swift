import ArgumentParser
import BrookClient
import BrookProtocol

extension TopicsCommand {
    /// `brook topics describe`: kafka-topics --describe's format (as of Kafka 3.6, before the
    /// ELR columns), one header line per topic then one line per partition:
    ///
    ///     Topic: orders	TopicId: 8ZQ...	PartitionCount: 2	ReplicationFactor: 1	Configs: cleanup.policy=compact
    ///     	Topic: orders	Partition: 0	Leader: 1	Replicas: 1	Isr: 1
    ///
    /// `Configs` lists every key whose value is not the built-in default (topic overrides and
    /// broker-level settings), sorted by name; `Leader: none` marks a partition without one.
    /// As in kafka-topics, `--under-replicated-partitions` (fewer in-sync replicas than
    /// replicas), `--under-min-isr-partitions` (fewer than `min.insync.replicas`),
    /// `--at-min-isr-partitions` (exactly that many) and `--unavailable-partitions` (no leader)
    /// print only the partition lines that match, without the topic lines.
    struct DescribeTopics: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(commandName: "describe", abstract: "Describe topics: partitions, leaders, replicas, configs.")

        @OptionGroup var connection: AdminOptions
        @Option(name: .customLong("topic"), help: "The topic, or a regular expression matching the topics (default: all).") var topic: String?
        @Flag(name: .customLong("if-exists"), help: "Do nothing when no topic matches.") var ifExists = false
        @Flag(name: .customLong("exclude-internal"), help: "Leave out internal topics such as __consumer_offsets.") var excludeInternal = false
        @Flag(name: .customLong("under-replicated-partitions"), help: "Only partitions with fewer in-sync replicas than replicas.")
        var underReplicated = false
        @Flag(name: .customLong("under-min-isr-partitions"), help: "Only partitions with fewer in-sync replicas than min.insync.replicas.")
        var underMinIsr = false
        @Flag(name: .customLong("at-min-isr-partitions"), help: "Only partitions with exactly min.insync.replicas in-sync replicas.")
        var atMinIsr = false
        @Flag(name: .customLong("unavailable-partitions"), help: "Only partitions without a leader.")
        var unavailable = false

        func run() async throws {
            let selection = TopicSelection(pattern: topic, excludeInternal: excludeInternal)
            let requireMatch = !ifExists
            let descriptions = try await connection.withCluster { cluster in
                let names = try await selection.topics(in: cluster, requireMatch: requireMatch)
                return try await TopicAdmin(cluster: cluster).describe(names, includeConfigs: true)
            }
            guard underReplicated || underMinIsr || atMinIsr || unavailable else {
                for description in descriptions { print(Self.render(description)) }
                return
            }
            for description in descriptions {
                let minimum = Int(description.configs?.first { $0.name == "min.insync.replicas" }?.value ?? "") ?? 1
                for partition in description.partitions {
                    let isr = partition.isr.count
                    let matches = (underReplicated && isr < partition.replicas.count) || (underMinIsr && isr < minimum)
                        || (atMinIsr && isr == minimum) || (unavailable && partition.leader == nil)
                    if matches { print(Self.render(partition, of: description.name)) }
                }
            }
        }

        static func render(_ partition: TopicAdmin.Partition, of topic: String) -> String {
            "\tTopic: \(topic)\tPartition: \(partition.partition)\tLeader: \(partition.leader.map(String.init) ?? "none")"
                + "\tReplicas: \(partition.replicas.map(String.init).joined(separator: ","))"
                + "\tIsr: \(partition.isr.map(String.init).joined(separator: ","))"
        }

        static func render(_ topic: TopicAdmin.Description) -> String {
            let configs = (topic.configs ?? []).filter { !$0.isDefault }.sorted { $0.name < $1.name }
                .map { "\($0.name)=\($0.value ?? "null")" }.joined(separator: ",")
            var header = "Topic: \(topic.name)"
            if topic.topicId != .zero { header += "\tTopicId: \(topic.topicId)" }
            header += "\tPartitionCount: \(topic.partitions.count)\tReplicationFactor: \(topic.replicationFactor)\tConfigs: \(configs)"
            let lines = topic.partitions.map { render($0, of: topic.name) }
            return ([header] + lines).joined(separator: "\n")
        }
    }
}
