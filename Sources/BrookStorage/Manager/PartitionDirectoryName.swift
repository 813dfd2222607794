import BrookModel

/// Kafka's partition folder names: `<topic>-<partition>` for a live partition, and
/// `<topic>-<partition>.<unique id>-delete` / `-stray` for one set aside (see ``LogManager``).
enum PartitionDirectoryName {
    /// A deleted partition's folder, removed after `log.segment.delete.delay.ms`.
    static let deleteSuffix = "-delete"
    /// A folder found holding another topic incarnation's data; kept, never served.
    static let straySuffix = "-stray"
    /// Kafka caps set-aside names at 255 bytes (a common file name limit) by cutting the topic.
    static let maximumLength = 255

    static func name(for partition: TopicPartition) -> String { "\(partition.topic)-\(partition.partition)" }

    /// `<topic>-<partition>.<unique id><suffix>`, the unique id being 32 lowercase hex digits (a
    /// random UUID without its dashes) and the topic cut short when the whole would exceed 255
    /// bytes, as Kafka names them.
    static func name(for partition: TopicPartition, suffix: String, uniqueId: String = randomUniqueId()) -> String {
        let tail = "-\(partition.partition).\(uniqueId)\(suffix)"
        let kept = partition.topic.utf8.prefix(max(0, maximumLength - tail.utf8.count))
        return String(decoding: kept, as: UTF8.self) + tail
    }

    /// A random version-4 UUID as 32 lowercase hex digits.
    static func randomUniqueId() -> String {
        let id = KafkaUUID.random()
        return hex(id.mostSignificantBits) + hex(id.leastSignificantBits)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Parses a folder name; nil for anything that is not a live partition folder.
    static func parse(_ name: String) -> TopicPartition? {
        guard !name.hasSuffix(deleteSuffix), !name.hasSuffix(straySuffix), !name.hasPrefix("."),
              let dash = name.lastIndex(of: "-") else { return nil }
        let topic = String(name[..<dash])
        guard !topic.isEmpty, let partition = Int32(name[name.index(after: dash)...]), partition >= 0 else { return nil }
        return TopicPartition(topic: topic, partition: partition)
    }
}
