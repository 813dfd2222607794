import BrookCoordinator
import BrookModel
import BrookRecords
import BrookStorage
import NIOCore

/// A partition of `__consumer_offsets` as the group coordinator's log: appends go through the
/// partition (so fetches of the topic wake up), replay reads the log from its start.
struct OffsetsTopicLog: CoordinatorLog {
    let partition: Partition
    /// How much of the log one replay read fetches.
    static let replayChunkBytes = 1 << 20

    func append(_ batch: ByteBuffer) throws {
        _ = try partition.appendAsLeader(batch, requiredAcks: -1)
    }

    func replay(_ visit: (RecordBatch) throws -> Void) throws {
        let log = partition.log
        var offset = log.logStartOffset
        let end = log.logEndOffset
        while offset < end {
            let result = try log.read(from: offset, maxBytes: Self.replayChunkBytes)
            guard let region = result.region, result.nextOffset > offset else { break }
            let bytes = try region.readBytes()
            var reader = RecordBatchReader(bytes)
            while let batch = try reader.next() {
                // A read may start inside a batch below `offset` after compaction.
                if batch.nextOffset > offset { try visit(batch) }
            }
            offset = result.nextOffset
        }
    }
}
