import BrookModel
import BrookProtocol
import BrookRecords
import Logging
import NIOCore
import Synchronization

/// Owns the transactional ids that hash to one partition of `__transaction_state`.
///
/// A ``ShardGate`` serialises the shard's work (a request waiting for a shard busy with its log
/// suspends instead of blocking a thread), and a mutex inside it guards the state; every state
/// change is appended to the shard's log before it is kept or answered. Markers are written outside the lock while the transaction sits in
/// PrepareCommit/PrepareAbort (requests for it meanwhile get CONCURRENT_TRANSACTIONS); a
/// transaction whose markers could not all be written stays prepared and is finished by
/// ``completePreparedTransactions()``.
public final class TransactionShard: Sendable {
    public let partition: Int32
    let log: any CoordinatorLog
    let configuration: TransactionConfiguration
    let markers: any TransactionMarkerWriter
    let newProducerId: @Sendable () throws -> Int64
    /// Written into every marker, so partitions can fence a stale coordinator.
    public let coordinatorEpoch: Int32
    let clock: @Sendable () -> Int64
    let logger: Logger
    let state = Mutex(ShardState())
    let gate = ShardGate()

    struct ShardState {
        var transactions: [String: TransactionMetadata] = [:]
        /// Ids whose markers are being written now.
        var writingMarkers: Set<String> = []
        var isShutDown = false
    }

    init(
        partition: Int32, log: any CoordinatorLog, configuration: TransactionConfiguration,
        markers: any TransactionMarkerWriter, newProducerId: @escaping @Sendable () throws -> Int64,
        coordinatorEpoch: Int32, clock: @escaping @Sendable () -> Int64, logger: Logger
    ) {
        self.partition = partition
        self.log = log
        self.configuration = configuration
        self.markers = markers
        self.newProducerId = newProducerId
        self.coordinatorEpoch = coordinatorEpoch
        self.clock = clock
        self.logger = logger
    }

    /// Runs `body` on the state once the shard's earlier work is done.
    func exclusively<T: Sendable>(_ body: (inout ShardState) -> T) async -> T {
        await gate.run { state.withLock { body(&$0) } }
    }

    // MARK: Producer requests

    /// InitProducerId with a transactional id: the id's producer id and a new epoch, which
    /// fences every older producer of the id. An open transaction is aborted first (with a bumped
    /// epoch, so its producer is fenced); `expected` is the caller's current producer id and epoch
    /// (KIP-360), nil for a new producer.
    public func initProducerId(
        transactionalId: String, timeoutMs: Int32, expected: (producerId: Int64, epoch: Int16)?
    ) async -> Result<(producerId: Int64, epoch: Int16), TransactionError> {
        guard timeoutMs > 0 && timeoutMs <= configuration.maxTimeoutMs else {
            return .failure(TransactionError(.invalidTransactionTimeout))
        }
        enum Step {
            case done(Result<(producerId: Int64, epoch: Int16), TransactionError>)
            case abortFirst(TransactionMarkers)
        }
        // One pass aborts an open transaction; the second then bumps the epoch.
        for _ in 0..<2 {
            let step = await exclusively { state -> Step in
                guard !state.isShutDown else { return .done(.failure(TransactionError(.notCoordinator))) }
                let now = clock()
                var metadata: TransactionMetadata
                if let existing = state.transactions[transactionalId] {
                    metadata = existing
                } else {
                    do {
                        metadata = .fresh(transactionalId: transactionalId, producerId: try newProducerId(), timeoutMs: timeoutMs, now: now)
                    } catch {
                        logger.error("could not allocate a producer id for \(transactionalId): \(error)")
                        return .done(.failure(TransactionError(.coordinatorNotAvailable)))
                    }
                }
                if state.writingMarkers.contains(transactionalId) || metadata.state.isPreparing || metadata.state == .dead {
                    return .done(.failure(TransactionError(.concurrentTransactions)))
                }
                if metadata.state == .ongoing {
                    metadata.fenceAndPrepareAbort(now: now)
                    if let error = persist(metadata, now: now) { return .done(.failure(TransactionError(error))) }
                    state.transactions[transactionalId] = metadata
                    state.writingMarkers.insert(transactionalId)
                    return .abortFirst(markerJob(metadata))
                }
                do {
                    let changed = try metadata.initProducer(timeoutMs: timeoutMs, expected: expected, now: now, newProducerId: newProducerId)
                    if changed {
                        if let error = persist(metadata, now: now) { return .done(.failure(TransactionError(error))) }
                    }
                } catch let error as TransactionError {
                    return .done(.failure(error))
                } catch {
                    logger.error("could not allocate a producer id for \(transactionalId): \(error)")
                    return .done(.failure(TransactionError(.coordinatorNotAvailable)))
                }
                state.transactions[transactionalId] = metadata
                return .done(.success((metadata.producerId, metadata.producerEpoch)))
            }
            switch step {
            case .done(let result):
                return result
            case .abortFirst(let job):
                guard await finish(job) else { return .failure(TransactionError(.concurrentTransactions)) }
            }
        }
        return .failure(TransactionError(.concurrentTransactions))
    }

    /// AddPartitionsToTxn (and AddOffsetsToTxn, with the group's offsets partition): adds the
    /// partitions to the producer's transaction, beginning one if none is open.
    public func addPartitions(
        transactionalId: String, producerId: Int64, epoch: Int16, partitions: Set<TopicPartition>
    ) async -> Result<Void, TransactionError> {
        await exclusively { state in
            guard !state.isShutDown else { return .failure(TransactionError(.notCoordinator)) }
            guard var metadata = state.transactions[transactionalId] else {
                return .failure(TransactionError(.invalidProducerIdMapping))
            }
            let now = clock()
            do throws(TransactionError) {
                guard try metadata.add(partitions, producerId: producerId, epoch: epoch, now: now) else { return .success(()) }
            } catch {
                return .failure(error)
            }
            if let error = persist(metadata, now: now) { return .failure(TransactionError(error)) }
            state.transactions[transactionalId] = metadata
            return .success(())
        }
    }

    /// AddPartitionsToTxn with VerifyOnly (KIP-890): whether each partition is in the producer's
    /// open transaction. A producer or state mismatch is reported for every partition; a partition
    /// not in the transaction gets INVALID_TXN_STATE.
    public func verifyPartitions(
        transactionalId: String, producerId: Int64, epoch: Int16, partitions: [TopicPartition]
    ) async -> [TopicPartition: ErrorCode] {
        await exclusively { state in
            func all(_ code: ErrorCode) -> [TopicPartition: ErrorCode] {
                Dictionary(partitions.map { ($0, code) }, uniquingKeysWith: { first, _ in first })
            }
            guard !state.isShutDown else { return all(.notCoordinator) }
            guard let metadata = state.transactions[transactionalId] else { return all(.invalidProducerIdMapping) }
            do throws(TransactionError) {
                try metadata.check(producerId: producerId, epoch: epoch)
            } catch {
                return all(error.code)
            }
            if metadata.state.isPreparing { return all(.concurrentTransactions) }
            return Dictionary(partitions.map { partition in
                (partition, metadata.state == .ongoing && metadata.partitions.contains(partition) ? ErrorCode.none : .invalidTxnState)
            }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// EndTxn: commits or aborts the open transaction. Answers once PrepareCommit/PrepareAbort is
    /// in the log and the markers have been attempted; markers that failed are retried later,
    /// and the answer is still success, as the outcome is decided.
    public func endTransaction(transactionalId: String, producerId: Int64, epoch: Int16, commit: Bool) async -> ErrorCode {
        let job = await exclusively { state -> Result<TransactionMarkers?, TransactionError> in
            guard !state.isShutDown else { return .failure(TransactionError(.notCoordinator)) }
            guard var metadata = state.transactions[transactionalId] else {
                return .failure(TransactionError(.invalidProducerIdMapping))
            }
            let now = clock()
            do throws(TransactionError) {
                if try metadata.prepareEnd(commit: commit, producerId: producerId, epoch: epoch, now: now) == .alreadyDone {
                    return .success(nil)
                }
            } catch {
                return .failure(error)
            }
            if let error = persist(metadata, now: now) { return .failure(TransactionError(error)) }
            state.transactions[transactionalId] = metadata
            state.writingMarkers.insert(transactionalId)
            return .success(markerJob(metadata))
        }
        switch job {
        case .failure(let error):
            return error.code
        case .success(nil):
            return .none
        case .success(let job?):
            _ = await finish(job)
            return .none
        }
    }

    // MARK: Timers

    /// Aborts every Ongoing transaction open longer than its timeout, bumping its producer's
    /// epoch so the producer is fenced, as Kafka does.
    public func abortTimedOutTransactions() async {
        let jobs = await exclusively { state -> [TransactionMarkers] in
            guard !state.isShutDown else { return [] }
            let now = clock()
            var jobs: [TransactionMarkers] = []
            for (transactionalId, var metadata) in state.transactions {
                guard let deadline = metadata.timeoutDeadline, deadline <= now,
                      !state.writingMarkers.contains(transactionalId) else { continue }
                metadata.fenceAndPrepareAbort(now: now)
                guard persist(metadata, now: now) == nil else { continue }
                logger.info("aborting transaction of \(transactionalId) (producer \(metadata.producerId)): open longer than \(metadata.timeoutMs) ms")
                state.transactions[transactionalId] = metadata
                state.writingMarkers.insert(transactionalId)
                jobs.append(markerJob(metadata))
            }
            return jobs
        }
        for job in jobs { _ = await finish(job) }
    }

    /// Writes the markers of every prepared transaction not being written now: after loading,
    /// and for markers that failed before.
    public func completePreparedTransactions() async {
        let jobs = await exclusively { state -> [TransactionMarkers] in
            guard !state.isShutDown else { return [] }
            var jobs: [TransactionMarkers] = []
            for (transactionalId, metadata) in state.transactions
            where (metadata.state == .prepareCommit || metadata.state == .prepareAbort) && !state.writingMarkers.contains(transactionalId) {
                state.writingMarkers.insert(transactionalId)
                jobs.append(markerJob(metadata))
            }
            return jobs
        }
        for job in jobs { _ = await finish(job) }
    }

    /// Forgets transactional ids idle longer than `transactional.id.expiration.ms`, writing
    /// tombstones for them.
    public func expireTransactionalIds() async {
        await exclusively { state in
            guard !state.isShutDown else { return }
            let now = clock()
            let expired = state.transactions.values.filter { metadata in
                metadata.state.isIdle && !state.writingMarkers.contains(metadata.transactionalId)
                    && metadata.lastUpdateTimestamp + configuration.transactionalIdExpirationMs <= now
            }.map(\.transactionalId)
            guard !expired.isEmpty else { return }
            do {
                try append(expired.sorted().map { ($0, nil) }, now: now)
            } catch {
                logger.error("could not expire \(expired.count) transactional ids; they stay and the next pass retries: \(error)")
                return
            }
            for transactionalId in expired { state.transactions[transactionalId] = nil }
        }
    }

    /// Refuses new requests: the broker is stopping.
    public func shutdown() {
        state.withLock { $0.isShutDown = true }
    }

    // MARK: Queries

    /// The metadata of `transactionalId`, nil when the id is unknown.
    public func transaction(_ transactionalId: String) async -> TransactionMetadata? {
        await exclusively { $0.transactions[transactionalId] }
    }

    /// Every transactional id's metadata.
    public var transactions: [TransactionMetadata] {
        get async { await exclusively { Array($0.transactions.values) } }
    }

    // MARK: Markers and persistence

    private func markerJob(_ metadata: TransactionMetadata) -> TransactionMarkers {
        TransactionMarkers(
            transactionalId: metadata.transactionalId, producerId: metadata.producerId,
            producerEpoch: metadata.producerEpoch, coordinatorEpoch: coordinatorEpoch,
            commit: metadata.state == .prepareCommit,
            partitions: metadata.partitions.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) })
    }

    /// Writes `job`'s markers, then completes the transaction if every one was written. Returns
    /// whether the transaction completed.
    ///
    /// As Kafka's marker channel does, a partition answering TRANSACTION_COORDINATOR_FENCED (a
    /// marker of a higher coordinator epoch is there) or INVALID_PRODUCER_EPOCH (a newer epoch of
    /// the producer is there) is never retried: the marker can never be written. Kafka then
    /// leaves the transaction to the coordinator that fenced it; on one node there is no other
    /// coordinator to finish it, so the error is logged and the transaction completes instead of
    /// staying prepared (and its producer refused with CONCURRENT_TRANSACTIONS) forever.
    private func finish(_ job: TransactionMarkers) async -> Bool {
        let results = await markers.write(job)
        let fenced = results.filter { $0.value == .transactionCoordinatorFenced || $0.value == .invalidProducerEpoch }
        for (partition, code) in fenced.sorted(by: { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }) {
            logger.error("""
                \(job.commit ? "COMMIT" : "ABORT") marker of \(job.transactionalId) (producer \(job.producerId), epoch \(job.producerEpoch)) \
                refused for good by \(partition.topic)-\(partition.partition) with \(code) at coordinator epoch \(job.coordinatorEpoch); \
                not retried
                """)
        }
        let failed = results.filter { $0.value != .none && $0.value != .unknownTopicOrPartition && fenced[$0.key] == nil }
        return await exclusively { state in
            state.writingMarkers.remove(job.transactionalId)
            guard failed.isEmpty else {
                logger.warning("markers of \(job.transactionalId) not written to \(failed.count) partitions (\(failed.values.map { "\($0)" }.sorted().joined(separator: ", "))); will retry")
                return false
            }
            let expectedState: TransactionState = job.commit ? .prepareCommit : .prepareAbort
            guard var metadata = state.transactions[job.transactionalId], metadata.state == expectedState,
                  metadata.producerId == job.producerId, metadata.producerEpoch == job.producerEpoch else { return false }
            let now = clock()
            metadata.complete(now: now)
            guard persist(metadata, now: now) == nil else { return false }
            state.transactions[job.transactionalId] = metadata
            return true
        }
    }

    /// Appends `metadata`'s record; nil when stored, else (logged) the error to answer the
    /// client with, as Kafka's TransactionStateManager maps the log's refusal (NOT_COORDINATOR
    /// for a storage error or a lost leadership, COORDINATOR_NOT_AVAILABLE for missing replicas
    /// or a timeout, UNKNOWN_SERVER_ERROR for an oversized record). The caller keeps the state
    /// it had.
    private func persist(_ metadata: TransactionMetadata, now: Int64) -> ErrorCode? {
        do {
            try append([(metadata.transactionalId, metadata)], now: now)
            return nil
        } catch {
            logger.error("could not store the transaction state of \(metadata.transactionalId): \(error)")
            return CoordinatorLogError.responseCode(for: error)
        }
    }

    private func append(_ records: [(String, TransactionMetadata?)], now: Int64) throws {
        var builder = RecordBatchBuilder()
        for (transactionalId, metadata) in records {
            let (key, value) = try TransactionRecord.encode(transactionalId: transactionalId, metadata)
            builder.append(timestamp: now, key: key, value: value)
        }
        try log.append(try builder.build())
    }

    /// Rebuilds the shard's transactional ids from its log: the last record of an id wins and a
    /// tombstone forgets it. Prepared transactions are finished by
    /// ``completePreparedTransactions()``.
    func load() throws {
        var transactions: [String: TransactionMetadata] = [:]
        try log.replay { batch in
            guard !batch.isControlBatch else { return }
            var iterator = try batch.makeRecordIterator()
            while let record = try iterator.next() {
                guard let key = record.key, let (transactionalId, metadata) = try TransactionRecord.decode(key: key, value: record.value) else {
                    continue
                }
                transactions[transactionalId] = metadata
            }
        }
        state.withLock { state in
            state.transactions = transactions
            state.writingMarkers = []
        }
    }
}
