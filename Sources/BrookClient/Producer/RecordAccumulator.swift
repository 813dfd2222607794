import BrookModel
import BrookRecords
import NIOCore
import Synchronization

/// The producer's buffer: per partition, an open batch taking records and the closed batches
/// waiting to be sent, in order; the buffer memory they hold (`buffer.memory`); which partitions
/// have a batch in flight (at most one each, which keeps every partition's batches, retries
/// included, in sequence order); and the waits of `send` for room, of the send loop for work and
/// of `flush` for an empty buffer.
///
/// One mutex guards it; appends are synchronous and never compress (batches are closed by the
/// send loop). Continuations are resumed outside the lock.
final class RecordAccumulator: Sendable {
    struct State {
        var open: [TopicPartition: ProducerBatch] = [:]
        var queued: [TopicPartition: CircularBuffer<ProducerBatch>] = [:]
        var inFlight: Set<TopicPartition> = []
        var usedMemory = 0
        var memoryWaiters: [CheckedContinuation<Void, Never>] = []
        var senderWaiter: CheckedContinuation<Void, Never>?
        var senderWakePending = false
        var flushWaiters: [CheckedContinuation<Void, Never>] = []
        var isClosing = false

        var isIdle: Bool { open.isEmpty && queued.isEmpty && inFlight.isEmpty }
    }

    let batchSize: Int
    let bufferMemory: Int
    let linger: Duration
    let compression: CompressionCodec
    let state = Mutex(State())

    init(configuration: ProducerConfiguration) {
        batchSize = max(1, configuration.batchSize)
        bufferMemory = max(1, configuration.bufferMemory)
        linger = .milliseconds(max(0, configuration.lingerMs))
        compression = configuration.compression
    }

    /// What an append did.
    enum AppendOutcome {
        case appended(closedBatch: Bool)
        /// The buffer is full: wait with ``waitForMemory()`` and try again.
        case bufferFull
        case closed
    }

    /// Appends a record to `partition`'s open batch (closing it first when the record would
    /// overflow `batch.size`). The clock is read only when a batch is created.
    func append(_ record: ProducerRecord, to partition: TopicPartition, timestamp: Int64, delivery: Delivery?) -> AppendOutcome {
        let reserve = (record.key?.readableBytes ?? 0) + (record.value?.readableBytes ?? 0)
            + record.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.readableBytes ?? 0) + 4 } + 24
        let (outcome, wake) = state.withLock { state -> (AppendOutcome, Bool) in
            guard !state.isClosing else { return (.closed, false) }
            if state.usedMemory > 0 && state.usedMemory + reserve > bufferMemory { return (.bufferFull, false) }
            var closed = false
            if let open = state.open[partition], let encoder = open.encoder, encoder.recordCount > 0,
               encoder.recordsSize + reserve > batchSize {
                state.queued[partition, default: []].append(open)
                state.open[partition] = nil
                closed = true
            }
            let created = state.open[partition] == nil
            // Taken out of the dictionary while it grows: a copy left there would make every
            // append copy the whole batch (copy on write).
            var batch = state.open.removeValue(forKey: partition) ?? ProducerBatch(
                partition: partition,
                encoder: BatchEncoder(compression: compression, capacity: max(batchSize, reserve)),
                createdAt: .now)
            let index = batch.encoder!.recordCount
            batch.encoder!.append(key: record.key, value: record.value, headers: record.headers, timestamp: timestamp)
            if let delivery { batch.deliveries.append((index, timestamp, delivery)) }
            batch.reservedBytes += reserve
            state.usedMemory += reserve
            if batch.encoder!.recordsSize >= batchSize {
                state.queued[partition, default: []].append(batch)
                state.open[partition] = nil
                closed = true
            } else {
                state.open[partition] = batch
            }
            return (.appended(closedBatch: closed), closed || created)
        }
        if wake { wakeSender() }
        return outcome
    }

    /// Waits until some buffer memory is released.
    func waitForMemory() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.usedMemory == 0 || state.isClosing { return true }
                state.memoryWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// The send loop's next step: batches to send now (at most one per partition, none for a
    /// partition with one in flight), or when to look again.
    struct Work {
        var batches: [ProducerBatch] = []
        /// The earliest linger or backoff deadline, nil when nothing waits on time.
        var nextDeadline: ContinuousClock.Instant?
        /// Closing and nothing left: the send loop may stop.
        var isFinished = false
    }

    /// Closes batches whose linger has passed (all of them while flushing or closing) and takes
    /// the first sendable batch of each partition.
    func nextWork(now: ContinuousClock.Instant) -> Work {
        state.withLock { state in
            var work = Work()
            let hurry = state.isClosing || !state.flushWaiters.isEmpty
            for (partition, batch) in state.open {
                let due = batch.createdAt + linger
                if hurry || due <= now {
                    state.queued[partition, default: []].append(batch)
                    state.open[partition] = nil
                } else {
                    work.nextDeadline = min(work.nextDeadline ?? due, due)
                }
            }
            for (partition, queue) in state.queued where !state.inFlight.contains(partition) {
                guard let head = queue.first else { continue }
                if let notBefore = head.notBefore, notBefore > now {
                    work.nextDeadline = min(work.nextDeadline ?? notBefore, notBefore)
                    continue
                }
                work.batches.append(head)
                state.queued[partition]!.removeFirst()
                if state.queued[partition]!.isEmpty { state.queued[partition] = nil }
                state.inFlight.insert(partition)
            }
            work.isFinished = state.isClosing && state.isIdle
            return work
        }
    }

    /// Waits until new work may be there: an append, a completion, a flush, or `deadline`.
    func waitForWork(until deadline: ContinuousClock.Instant?) async {
        let timer = deadline.map { deadline in
            Task { [weak self] in
                try? await Task.sleep(until: deadline)
                self?.wakeSender()
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.senderWakePending {
                    state.senderWakePending = false
                    return true
                }
                state.senderWaiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        timer?.cancel()
    }

    func wakeSender() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.senderWaiter else {
                state.senderWakePending = true
                return nil
            }
            state.senderWaiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// A batch's outcome is known: releases its memory and its partition.
    func finished(_ batch: ProducerBatch) {
        let (memory, flushed) = state.withLock { state in
            state.inFlight.remove(batch.partition)
            state.usedMemory -= batch.reservedBytes
            let memory = state.memoryWaiters
            state.memoryWaiters = []
            var flushed: [CheckedContinuation<Void, Never>] = []
            if state.isIdle {
                flushed = state.flushWaiters
                state.flushWaiters = []
            }
            return (memory, flushed)
        }
        memory.forEach { $0.resume() }
        flushed.forEach { $0.resume() }
        wakeSender()
    }

    /// Puts a batch back at the head of its partition's queue, to be sent again after `notBefore`.
    func retry(_ batch: ProducerBatch, notBefore: ContinuousClock.Instant) {
        var batch = batch
        batch.attempts += 1
        batch.notBefore = notBefore
        state.withLock { state in
            state.inFlight.remove(batch.partition)
            state.queued[batch.partition, default: []].prepend(batch)
        }
        wakeSender()
    }

    /// Forgets the sequence numbers of every batch not yet acknowledged (a new producer id or
    /// epoch restarts them at 0).
    func resetSequences() {
        state.withLock { state in
            for partition in state.queued.keys {
                for index in state.queued[partition]!.indices { state.queued[partition]![index].sequence = nil }
            }
        }
    }

    /// Takes every batch not in flight (aborting a transaction), releasing their memory.
    func drainUnsent() -> [ProducerBatch] {
        let (batches, waiters) = state.withLock { state in
            var batches = Array(state.open.values)
            for queue in state.queued.values { batches += queue }
            state.open = [:]
            state.queued = [:]
            state.usedMemory -= batches.reduce(0) { $0 + $1.reservedBytes }
            let waiters = state.memoryWaiters
            state.memoryWaiters = []
            return (batches, waiters)
        }
        waiters.forEach { $0.resume() }
        return batches
    }

    /// Waits until every record appended so far has its outcome (batches are sent without
    /// waiting for their linger meanwhile).
    func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.isIdle { return true }
                state.flushWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() } else { wakeSender() }
        }
    }

    /// Refuses new records; the send loop finishes what is buffered and stops.
    func beginClosing() {
        let waiters = state.withLock { state in
            state.isClosing = true
            let waiters = state.memoryWaiters
            state.memoryWaiters = []
            return waiters
        }
        waiters.forEach { $0.resume() }
        wakeSender()
    }
}
