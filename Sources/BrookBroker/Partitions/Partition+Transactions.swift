import BrookModel
import BrookRecords
import BrookStorage
import NIOCore

extension Partition {
    /// The last stable offset: READ_COMMITTED consumers read below it (see
    /// ``PartitionLog/lastStableOffset(highWatermark:)``).
    var lastStableOffset: Int64 { log.lastStableOffset(highWatermark: highWatermark) }

    /// Appends a transaction coordinator's COMMIT or ABORT marker for `producerId` (WriteTxnMarkers)
    /// and wakes the fetches waiting on this partition, whose last stable offset may have moved.
    @discardableResult
    func appendTransactionMarker(
        commit: Bool, producerId: Int64, producerEpoch: Int16, coordinatorEpoch: Int32
    ) throws(StorageError) -> AppendInfo {
        let batch: ByteBuffer
        do throws(RecordBatchError) {
            batch = try RecordBatchBuilder.endTransactionMarkerBatch(
                commit ? .commit : .abort, producerId: producerId, producerEpoch: producerEpoch,
                coordinatorEpoch: coordinatorEpoch, timestamp: SystemLogClock().nowMilliseconds())
        } catch {
            throw .invalidRecords(error)
        }
        let info = try log.append(batch, leaderEpoch: LeaderEpoch(leaderEpoch), origin: .coordinator)
        waiters.notifyAll()
        return info
    }
}
