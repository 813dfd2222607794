import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import Dispatch
import NIOCore
import Synchronization

/// A partition of a coordinator's topic (`__consumer_offsets`, `__transaction_state`) as the
/// coordinator's log: appends go through the partition (so fetches of the topic wake up) as the
/// coordinator (no sequence checks, so the transactional offset batches, which carry none, open
/// their producer's transaction there); replay reads the log from its start. On a replicated
/// partition an append counts once the ISR holds it (acks=all, as Kafka's coordinators write):
/// a commit acknowledged to a client survives the loss of its coordinator's broker. Refusals are
/// thrown as ``CoordinatorLogError`` (a timeout as REQUEST_TIMED_OUT).
struct OffsetsTopicLog: CoordinatorLog {
    let partition: Partition
    /// How long an append waits for the ISR (`offsets.commit.timeout.ms`'s default).
    var replicationTimeout: Duration = .seconds(5)
    /// How much of the log one replay read fetches.
    static let replayChunkBytes = 1 << 20

    func append(_ batch: ByteBuffer) throws {
        let epoch = partition.leaderEpoch
        let info: AppendInfo
        do throws(LeaderAppendError) {
            info = try partition.appendAsLeader(batch, requiredAcks: -1, origin: .coordinator)
        } catch {
            throw CoordinatorLogError(code: error.errorCode)
        }
        guard !partition.leadsAlone else { return }
        // Coordinator appends run on the coordinator's threads, which may block.
        let outcome = Mutex<ErrorCode>(.requestTimedOut)
        let done = DispatchSemaphore(value: 0)
        let deadline = ContinuousClock.now + replicationTimeout
        Task { [partition] in
            let code = await partition.waitForReplication(below: info.lastOffset + 1, epoch: epoch, deadline: deadline)
            outcome.withLock { $0 = code }
            done.signal()
        }
        done.wait()
        let code = outcome.withLock { $0 }
        if code != .none { throw CoordinatorLogError(code: code) }
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
