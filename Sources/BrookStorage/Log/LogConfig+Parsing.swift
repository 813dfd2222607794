import BrookRecords

/// Parsing and describing topic configs by their Kafka names.
///
/// Values are parsed as Kafka's ConfigDef parses them: integers and longs in decimal (surrounding
/// blanks ignored), booleans as true/false in any case, lists comma-separated. Every failure
/// names the key: ``StorageError/invalidConfig(key:value:reason:)``.
extension LogConfig {
    /// Kafka's defaults with `overrides` applied (broker defaults first, then the topic's own).
    public init(overrides: [String: String]) throws(StorageError) {
        self.init()
        for key in overrides.keys.sorted() {
            try set(key, to: overrides[key]!)
        }
    }

    /// Every topic config name this type understands.
    public static let knownKeys: [String] = [
        "segment.bytes", "segment.ms", "segment.jitter.ms", "segment.index.bytes", "index.interval.bytes",
        "preallocate", "max.message.bytes", "message.timestamp.type", "message.timestamp.before.max.ms",
        "message.timestamp.after.max.ms", "compression.type", "compression.gzip.level",
        "compression.lz4.level", "compression.zstd.level", "flush.messages", "flush.ms",
        "file.delete.delay.ms", "cleanup.policy", "retention.ms", "retention.bytes", "delete.retention.ms",
        "min.compaction.lag.ms", "max.compaction.lag.ms", "min.cleanable.dirty.ratio",
        "min.insync.replicas", "unclean.leader.election.enable", "leader.replication.throttled.replicas",
        "follower.replication.throttled.replicas", "remote.storage.enable", "write.caching",
    ]

    /// Sets one config from its Kafka name and string value.
    public mutating func set(_ key: String, to value: String) throws(StorageError) {
        let parser = ConfigValueParser(key: key, value: value)
        switch key {
        case "segment.bytes": segmentBytes = try parser.int(atLeast: 14)
        case "segment.ms": segmentMs = try parser.long(atLeast: 1)
        case "segment.jitter.ms": segmentJitterMs = try parser.long(atLeast: 0)
        case "segment.index.bytes": segmentIndexBytes = try parser.int(atLeast: 4)
        case "index.interval.bytes": indexIntervalBytes = try parser.int(atLeast: 0)
        case "preallocate": preallocate = try parser.bool()
        case "write.caching": writeCaching = try parser.bool()
        case "max.message.bytes": maxMessageBytes = try parser.int(atLeast: 0)
        case "message.timestamp.type":
            switch parser.trimmed {
            case "CreateTime": messageTimestampType = .createTime
            case "LogAppendTime": messageTimestampType = .logAppendTime
            default: throw parser.invalid("must be CreateTime or LogAppendTime")
            }
        case "message.timestamp.before.max.ms": messageTimestampBeforeMaxMs = try parser.long(atLeast: 0)
        case "message.timestamp.after.max.ms": messageTimestampAfterMaxMs = try parser.long(atLeast: 0)
        case "compression.type":
            guard let type = CompressionType(rawValue: parser.trimmed.lowercased()) else {
                throw parser.invalid("must be one of " + CompressionType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            compressionType = type
        case "compression.gzip.level":
            let level = try parser.int(atLeast: -1)
            guard level == -1 || (1...9).contains(level) else { throw parser.invalid("must be -1 or between 1 and 9") }
            compressionGzipLevel = Int32(level)
        case "compression.lz4.level": compressionLZ4Level = Int32(try parser.int(in: 1...17))
        case "compression.zstd.level": compressionZstdLevel = Int32(try parser.int(in: -131_072...22))
        case "flush.messages": flushMessages = try parser.long(atLeast: 1)
        case "flush.ms": flushMs = try parser.long(atLeast: 0)
        case "file.delete.delay.ms": fileDeleteDelayMs = try parser.long(atLeast: 0)
        case "cleanup.policy":
            var policy: CleanupPolicy = []
            for item in parser.trimmed.split(separator: ",") {
                switch item.trimmingBlanks.lowercased() {
                case "delete": policy.insert(.delete)
                case "compact": policy.insert(.compact)
                case "": continue
                default: throw parser.invalid("must be a list of delete and compact")
                }
            }
            cleanupPolicy = policy
        case "retention.ms": retentionMs = try parser.long(atLeast: -1)
        case "retention.bytes": retentionBytes = try parser.long(atLeast: .min)
        case "delete.retention.ms": deleteRetentionMs = try parser.long(atLeast: 0)
        case "min.compaction.lag.ms": minCompactionLagMs = try parser.long(atLeast: 0)
        case "max.compaction.lag.ms": maxCompactionLagMs = try parser.long(atLeast: 1)
        case "min.cleanable.dirty.ratio": minCleanableDirtyRatio = try parser.ratio()
        case "min.insync.replicas": minInSyncReplicas = try parser.int(atLeast: 1)
        case "unclean.leader.election.enable": uncleanLeaderElectionEnable = try parser.bool()
        case "leader.replication.throttled.replicas": leaderReplicationThrottledReplicas = try parser.throttledReplicas()
        case "follower.replication.throttled.replicas": followerReplicationThrottledReplicas = try parser.throttledReplicas()
        case "remote.storage.enable":
            guard try parser.bool() == false else { throw parser.invalid("tiered storage is not supported") }
        default:
            throw parser.invalid("unknown topic configuration")
        }
    }

    /// Every config's current value by Kafka name, rendered as Kafka renders it (DescribeConfigs).
    public var describedValues: [String: String] {
        [
            "segment.bytes": String(segmentBytes),
            "segment.ms": String(segmentMs),
            "segment.jitter.ms": String(segmentJitterMs),
            "segment.index.bytes": String(segmentIndexBytes),
            "index.interval.bytes": String(indexIntervalBytes),
            "preallocate": String(preallocate),
            "write.caching": String(writeCaching),
            "max.message.bytes": String(maxMessageBytes),
            "message.timestamp.type": messageTimestampType == .createTime ? "CreateTime" : "LogAppendTime",
            "message.timestamp.before.max.ms": String(messageTimestampBeforeMaxMs),
            "message.timestamp.after.max.ms": String(messageTimestampAfterMaxMs),
            "compression.type": compressionType.rawValue,
            "compression.gzip.level": String(compressionGzipLevel),
            "compression.lz4.level": String(compressionLZ4Level),
            "compression.zstd.level": String(compressionZstdLevel),
            "flush.messages": String(flushMessages),
            "flush.ms": String(flushMs),
            "file.delete.delay.ms": String(fileDeleteDelayMs),
            "cleanup.policy": [cleanupPolicy.contains(.delete) ? "delete" : nil, cleanupPolicy.contains(.compact) ? "compact" : nil]
                .compactMap { $0 }.joined(separator: ","),
            "retention.ms": String(retentionMs),
            "retention.bytes": String(retentionBytes),
            "delete.retention.ms": String(deleteRetentionMs),
            "min.compaction.lag.ms": String(minCompactionLagMs),
            "max.compaction.lag.ms": String(maxCompactionLagMs),
            "min.cleanable.dirty.ratio": String(minCleanableDirtyRatio),
            "min.insync.replicas": String(minInSyncReplicas),
            "unclean.leader.election.enable": String(uncleanLeaderElectionEnable),
            "leader.replication.throttled.replicas": leaderReplicationThrottledReplicas,
            "follower.replication.throttled.replicas": followerReplicationThrottledReplicas,
            "remote.storage.enable": "false",
        ]
    }
}

/// Parses one config value, producing errors that name the key.
private struct ConfigValueParser {
    let key: String
    let value: String

    var trimmed: String { value.trimmingBlanks }

    /// A throttled replica list: empty, `*`, or `partition:broker` pairs separated by commas.
    func throttledReplicas() throws(StorageError) -> String {
        guard !trimmed.isEmpty, trimmed != "*" else { return trimmed }
        let valid = trimmed.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { entry in
            let parts = entry.trimmingBlanks.split(separator: ":", omittingEmptySubsequences: false)
            return parts.count == 2 && Int32(parts[0]) != nil && Int32(parts[1]) != nil
        }
        guard valid else { throw invalid("must be * or a list of partitionId:brokerId pairs, as 0:101,0:102") }
        return trimmed
    }

    func invalid(_ reason: String) -> StorageError {
        .invalidConfig(key: key, value: value, reason: reason)
    }

    func long(atLeast minimum: Int64) throws(StorageError) -> Int64 {
        guard let number = Int64(trimmed) else { throw invalid("not a valid long") }
        guard number >= minimum else { throw invalid("must be at least \(minimum)") }
        return number
    }

    func int(atLeast minimum: Int) throws(StorageError) -> Int {
        guard let number = Int32(trimmed) else { throw invalid("not a valid int") }
        guard Int(number) >= minimum else { throw invalid("must be at least \(minimum)") }
        return Int(number)
    }

    func int(in range: ClosedRange<Int>) throws(StorageError) -> Int {
        guard let number = Int32(trimmed) else { throw invalid("not a valid int") }
        guard range.contains(Int(number)) else {
            throw invalid("must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return Int(number)
    }

    func bool() throws(StorageError) -> Bool {
        switch trimmed.lowercased() {
        case "true": return true
        case "false": return false
        default: throw invalid("must be true or false")
        }
    }

    func ratio() throws(StorageError) -> Double {
        guard let number = Double(trimmed), number.isFinite else { throw invalid("not a valid double") }
        guard (0...1).contains(number) else { throw invalid("must be between 0 and 1") }
        return number
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and newlines.
    fileprivate var trimmingBlanks: String {
        let blanks: Set<Character> = [" ", "\t", "\n", "\r"]
        guard let first = firstIndex(where: { !blanks.contains($0) }) else { return "" }
        let last = lastIndex(where: { !blanks.contains($0) })!
        return String(self[first...last])
    }
}
