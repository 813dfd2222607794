import BrookStorage

/// Topic-level configuration keys: Kafka's names, types, defaults and the broker keys they fall
/// back to (their synonyms), in the order DescribeConfigs lists synonyms.
enum TopicConfigDefinitions {
    struct Entry: Sendable {
        let definition: ConfigDefinition
        /// Broker keys consulted when the topic does not override the key, most specific first.
        let brokerSynonyms: [String]
    }

    static let all: [Entry] = [
        entry("cleanup.policy", .list, "delete", ["log.cleanup.policy"], "delete, compact or both."),
        entry("compression.type", .string, "producer", ["compression.type"], "Compression of stored batches.",
              allowed: ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
        entry("delete.retention.ms", .long, "86400000", ["log.cleaner.delete.retention.ms"], "How long tombstones are kept.", minimum: 0),
        entry("file.delete.delay.ms", .long, "60000", ["log.segment.delete.delay.ms"], "Delay before deleting a segment file.", minimum: 0),
        entry("flush.messages", .long, "9223372036854775807", ["log.flush.interval.messages"], "fsync after this many messages.", minimum: 1),
        entry("flush.ms", .long, "9223372036854775807", ["log.flush.interval.ms"], "fsync after this long.", minimum: 0),
        entry("follower.replication.throttled.replicas", .list, "", [], "Replicas (partition:broker, or *) that fetch at most follower.replication.throttled.rate while out of sync."),
        entry("index.interval.bytes", .int, "4096", ["log.index.interval.bytes"], "Bytes between index entries.", minimum: 0),
        entry("leader.replication.throttled.replicas", .list, "", [], "Replicas (partition:broker, or *) whose leaders throttle what they send out-of-sync followers to leader.replication.throttled.rate."),
        entry("max.compaction.lag.ms", .long, "9223372036854775807", ["log.cleaner.max.compaction.lag.ms"], "Maximum age before compaction.", minimum: 1),
        entry("max.message.bytes", .int, "1048588", ["message.max.bytes"], "The largest record batch accepted.", minimum: 0),
        entry("message.timestamp.after.max.ms", .long, "3600000", ["log.message.timestamp.after.max.ms"], "How far in the future a timestamp may be.", minimum: 0),
        entry("message.timestamp.before.max.ms", .long, "9223372036854775807", ["log.message.timestamp.before.max.ms"], "How far in the past a timestamp may be.", minimum: 0),
        entry("message.timestamp.type", .string, "CreateTime", ["log.message.timestamp.type"], "CreateTime or LogAppendTime.",
              allowed: ["CreateTime", "LogAppendTime"]),
        entry("min.cleanable.dirty.ratio", .double, "0.5", ["log.cleaner.min.cleanable.ratio"], "Dirty ratio that triggers cleaning.", minimum: 0),
        entry("min.compaction.lag.ms", .long, "0", ["log.cleaner.min.compaction.lag.ms"], "Minimum age before compaction.", minimum: 0),
        entry("min.insync.replicas", .int, "1", ["min.insync.replicas"], "Replicas that must acknowledge acks=all.", minimum: 1),
        entry("preallocate", .boolean, "false", ["log.preallocate"], "Preallocate segment files."),
        entry("write.caching", .boolean, "false", ["log.write.caching"], "Answer acks=all from the page cache (true) or after an fsync when no other in-sync replica has the records (false, Brook's default)."),
        entry("retention.bytes", .long, "-1", ["log.retention.bytes"], "Retention size per partition."),
        entry("retention.ms", .long, "604800000", ["log.retention.ms", "log.retention.minutes", "log.retention.hours"], "Retention time.", minimum: -1),
        entry("segment.bytes", .int, "1073741824", ["log.segment.bytes"], "Segment size.", minimum: 14),
        entry("segment.index.bytes", .int, "10485760", ["log.index.size.max.bytes"], "Index file size.", minimum: 4),
        entry("segment.jitter.ms", .long, "0", ["log.roll.jitter.ms", "log.roll.jitter.hours"], "Jitter subtracted from the roll time.", minimum: 0),
        entry("segment.ms", .long, "604800000", ["log.roll.ms", "log.roll.hours"], "Roll segments after this long.", minimum: 1),
        entry("unclean.leader.election.enable", .boolean, "false", ["unclean.leader.election.enable"], "Allow out-of-sync leaders."),
    ]

    static let byName: [String: Entry] = Dictionary(uniqueKeysWithValues: all.map { ($0.definition.name, $0) })

    private static func entry(
        _ name: String, _ type: ConfigDefinition.ValueType, _ defaultValue: String, _ synonyms: [String],
        _ documentation: String, minimum: Double? = nil, allowed: [String]? = nil
    ) -> Entry {
        Entry(
            definition: ConfigDefinition(name, type, defaultValue, minimum: minimum, allowed: allowed, documentation),
            brokerSynonyms: synonyms
        )
    }

    /// Converts a broker synonym's value to the topic key's unit (hours and minutes to ms).
    static func convert(_ value: String, fromBrokerKey key: String) -> String {
        guard let number = Int64(value.trimmingCharacters(in: " ")) else { return value }
        if key.hasSuffix(".hours") { return String(number * 3_600_000) }
        if key.hasSuffix(".minutes") { return String(number * 60_000) }
        return value
    }

    /// Validates topic overrides; returns a message naming the first bad key.
    static func problem(with configs: [String: String]) -> String? {
        for (key, value) in configs.sorted(by: { $0.key < $1.key }) {
            guard let entry = byName[key] else { return "Unknown topic config name: \(key)" }
            if let problem = entry.definition.validate(value) { return "Invalid value \(value) for configuration \(problem)" }
            // What storage parses it must also accept (a throttled-replica list's entries, say),
            // or the topic would take a value its logs then refuse.
            if LogConfig.knownKeys.contains(key) {
                var parsed = LogConfig()
                do { try parsed.set(key, to: value) } catch { return "Invalid value \(value) for configuration \(key): \(error)" }
            }
        }
        return nil
    }
}

extension BrokerConfig {
    /// The value a topic gets for `key` when it does not override it, with the broker key that
    /// supplied it (nil when Kafka's default applies).
    func topicDefault(_ key: String) -> (value: String, brokerKey: String?)? {
        guard let entry = TopicConfigDefinitions.byName[key] else { return nil }
        for synonym in entry.brokerSynonyms {
            if let value = values[synonym] {
                return (TopicConfigDefinitions.convert(value, fromBrokerKey: synonym), synonym)
            }
        }
        return (entry.definition.defaultValue ?? "", nil)
    }
}
