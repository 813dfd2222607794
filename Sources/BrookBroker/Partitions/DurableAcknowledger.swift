import BrookStorage
import NIOPosix
import Synchronization

/// Group commit for acks=all on a partition without other in-sync replicas (`write.caching`
/// false): a produce request is answered only once the log's durable offset has passed its
/// records, i.e. once they are fsynced (``PartitionLog/syncData()``: the `.log` files, and the
/// directory after a roll; the indexes are left to the regular flush, as recovery rebuilds them).
///
/// At most one fsync runs per partition at a time, on threads of its own (never on Swift's
/// cooperative pool). It covers the log as far as it reached when the fsync began, so every
/// request that appended before it is released by it; requests that arrive during an fsync
/// wait for the next one, which starts as soon as the current one ends and covers all of them.
/// Under load, one fsync thus answers many requests. A failed fsync fails every waiter (and
/// takes the log directory offline, see ``LogDirectoryHealth``).
final class DurableAcknowledger: Sendable {
    private struct Waiter {
        let offset: Int64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var flushing = false
        var waiters: [Waiter] = []
    }

    let log: PartitionLog
    private let pool: NIOThreadPool
    private let state = Mutex(State())

    /// The threads fsyncs run on: enough that a few slow disks or partitions do not queue the
    /// fsyncs of the others behind them (Kafka's `num.io.threads` default is 8 too).
    static let flushThreads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()

    init(log: PartitionLog, pool: NIOThreadPool = DurableAcknowledger.flushThreads) {
        self.log = log
        self.pool = pool
    }

    /// Returns once every offset below `endOffset` is durable; throws the fsync's failure.
    func waitUntilDurable(below endOffset: Int64) async throws {
        guard log.durableOffset < endOffset else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let start = state.withLock { state -> Bool in
                state.waiters.append(Waiter(offset: endOffset, continuation: continuation))
                guard !state.flushing else { return false }
                state.flushing = true
                return true
            }
            if start { scheduleFlush() }
        }
    }

    private func scheduleFlush() {
        pool.submit { [self] workState in
            guard case .active = workState else {
                fail(with: StorageError.logClosed(directory: log.directory))
                return
            }
            flushUntilNobodyWaits()
        }
    }

    /// Runs on a pool thread: fsyncs to the current end, releases whom that covers, and goes on
    /// while anyone still waits.
    private func flushUntilNobodyWaits() {
        while true {
            let before = log.durableOffset
            do {
                try log.syncData()
            } catch {
                fail(with: error)
                return
            }
            let durable = log.durableOffset
            let (released, keepGoing) = state.withLock { state -> ([Waiter], Bool) in
                var released: [Waiter] = []
                state.waiters.removeAll { waiter in
                    guard waiter.offset <= durable else { return false }
                    released.append(waiter)
                    return true
                }
                // Decided under the lock, so that a waiter arriving now either sees a flush
                // going on (and is covered by the next round) or starts one itself.
                if state.waiters.isEmpty { state.flushing = false }
                return (released, !state.waiters.isEmpty)
            }
            for waiter in released { waiter.continuation.resume() }
            guard keepGoing else { return }
            if released.isEmpty && durable == before && durable >= log.logEndOffset {
                // Nothing left to flush and still waiters: their records are gone (truncated).
                fail(with: StorageError.offsetOutOfRange(offset: durable, logStartOffset: log.logStartOffset, logEndOffset: durable))
                return
            }
        }
    }

    private func fail(with error: any Error) {
        let failed: [Waiter] = state.withLock { state in
            defer {
                state.waiters = []
                state.flushing = false
            }
            return state.waiters
        }
        for waiter in failed { waiter.continuation.resume(throwing: error) }
    }
}
