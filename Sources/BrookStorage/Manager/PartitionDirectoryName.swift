import BrookModel

/// Kafka's partition folder names: `<topic>-<partition>`, plus the `-delete` suffix a deleted
/// partition's folder carries until it is removed.
enum PartitionDirectoryName {
    static let deleteSuffix = "-delete"

    static func name(for partition: TopicPartition) -> String { "\(partition.topic)-\(partition.partition)" }

    /// Parses a folder name; nil for anything that is not a live partition folder.
    static func parse(_ name: String) -> TopicPartition? {
        guard !name.hasSuffix(deleteSuffix), !name.hasPrefix("."), let dash = name.lastIndex(of: "-") else { return nil }
        let topic = String(name[..<dash])
        guard !topic.isEmpty, let partition = Int32(name[name.index(after: dash)...]), partition >= 0 else { return nil }
        return TopicPartition(topic: topic, partition: partition)
    }
}
