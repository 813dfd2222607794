import BrookCoordinator
import BrookModel
import BrookRecords
import BrookStorage
import NIOCore

/// A partition of `__consumer_offsets` as the group coordinator's log: appends go through the
/// partition (so fetches of the topic wake up) as the coordinator (no sequence checks, so the
/// transactional offset batches, which carry none, open their producer's transaction there);
/// replay reads the log from its start. Refusals are thrown as ``CoordinatorLogError``.
struct OffsetsTopicLog: CoordinatorLog {
    let partition: Partition
    /// How much of the log one replay read fetches.
    static let replayChunkBytes = 1 << 20

    func append(_ batch: ByteBuffer) throws {
        do throws(LeaderAppendError) {
            _ = try partition.appendAsLeader(batch, requiredAcks: -1, origin: .coordinator)
        } catch {
            throw CoordinatorLogError(code: error.errorCode)
        }
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
