import BrookModel
import BrookProtocol
import BrookStorage
import Glibc

/// DescribeLogDirs: each log directory with the size of every partition in it, how far each
/// follower replica is behind its leader's high watermark (`offset_lag`), and the disk's total
/// and usable bytes (v4+). A directory offline after a disk failure answers
/// KAFKA_STORAGE_ERROR with no partitions, as in Kafka.
struct DescribeLogDirsHandler: RequestHandler {
    typealias Request = DescribeLogDirsRequest
    let versions: ClosedRange<Int16> = 0...4
    let logs: LogManager
    /// A replica's lag behind its leader (0 for a leader, or on a single node).
    var lag: @Sendable (TopicPartition) -> Int64 = { _ in 0 }

    func handle(_ request: DescribeLogDirsRequest, context: RequestContext) async throws -> DescribeLogDirsResponse? {
        // With ACLs, DESCRIBE on the cluster; Kafka answers no directories otherwise.
        guard context.authorizedOnCluster(.describe) else {
            return DescribeLogDirsResponse(throttleTimeMs: 0, errorCode: ErrorCode.clusterAuthorizationFailed.rawValue)
        }
        let wanted: Set<TopicPartition>? = request.topics.map { topics in
            Set(topics.flatMap { topic in topic.partitions.map { TopicPartition(topic: topic.topic, partition: $0) } })
        }
        let byDirectory = logs.logsByDirectory
        let results = logs.configuration.logDirs.map { directory in
            guard logs.health[directory]?.isOnline ?? true else {
                return DescribeLogDirsResponse.DescribeLogDirsResult(
                    errorCode: ErrorCode.kafkaStorageError.rawValue, logDir: directory, topics: [], totalBytes: -1, usableBytes: -1)
            }
            var topics: [String: [DescribeLogDirsResponse.DescribeLogDirsPartition]] = [:]
            for (key, log) in byDirectory[directory] ?? [:] where wanted?.contains(key) ?? true {
                topics[key.topic, default: []].append(.init(
                    partitionIndex: key.partition, partitionSize: Int64(log.sizeInBytes), offsetLag: lag(key), isFutureKey: false
                ))
            }
            var stats = statvfs()
            let hasStats = statvfs(directory, &stats) == 0
            return DescribeLogDirsResponse.DescribeLogDirsResult(
                errorCode: 0, logDir: directory,
                topics: topics.sorted { $0.key < $1.key }.map { name, partitions in
                    .init(name: name, partitions: partitions.sorted { $0.partitionIndex < $1.partitionIndex })
                },
                totalBytes: hasStats ? Int64(stats.f_blocks) * Int64(stats.f_frsize) : -1,
                usableBytes: hasStats ? Int64(stats.f_bavail) * Int64(stats.f_frsize) : -1
            )
        }
        return DescribeLogDirsResponse(throttleTimeMs: 0, errorCode: 0, results: results)
    }
}
