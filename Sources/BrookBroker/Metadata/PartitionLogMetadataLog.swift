import BrookModel
import BrookRecords
import BrookStorage
import NIOCore
import Synchronization

/// The metadata log on disk: the `__cluster_metadata-0` partition, as in KRaft. Each change is one
/// record batch (its records are the change's metadata records, values only), fsynced before the
/// change takes effect.
final class PartitionLogMetadataLog: MetadataLog {
    static let partition = TopicPartition(topic: "__cluster_metadata", partition: 0)

    private let log: PartitionLog
    private let appends = Mutex(())

    init(log: PartitionLog) {
        self.log = log
    }

    func append(_ records: [ByteBuffer]) throws {
        guard !records.isEmpty else { return }
        try appends.withLock { _ in
            var builder = RecordBatchBuilder()
            let now = SystemLogClock().nowMilliseconds()
            for record in records {
                builder.append(timestamp: now, key: nil, value: record)
            }
            _ = try log.append(try builder.build(), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
            try log.flush()
        }
    }

    func replay() throws -> [ByteBuffer] {
        var values: [ByteBuffer] = []
        var offset = log.logStartOffset
        while offset < log.logEndOffset {
            let result = try log.read(from: offset, maxBytes: 1 << 20)
            guard let region = result.region else { break }
            var reader = RecordBatchReader(try region.readBytes())
            while let batch = try reader.next() {
                try batch.validate()
                for record in try batch.records() where record.offset >= offset {
                    if let value = record.value { values.append(value) }
                }
            }
            offset = result.nextOffset
        }
        return values
    }
}
