import BrookModel
import BrookRecords
import NIOCore
import Synchronization

/// The producer's buffer: per topic, its partition count, the partition keyless records stick to
/// and each partition's open batch; per partition, the closed batches waiting to be sent, in
/// order; the buffer memory they hold (`buffer.memory`); which partitions have a batch in flight
/// (at most one each, which keeps every partition's batches, retries included, in sequence
/// order); and the waits of `send` for room, of the send loop for work and of `flush` for an
/// empty buffer.
///
/// One mutex guards it. An append chooses the partition and writes the record under one lock,
/// synchronously and without compressing (batches are closed by the send loop); records to the
/// topic of the previous append find its slot without hashing the name. Continuations are
/// resumed outside the lock.
final class RecordAccumulator: Sendable {
    /// One topic's records being gathered.
    struct TopicSlot {
        let name: String
        var partitionCount: Int32
        /// Where records without key or partition go until that partition's batch closes
        /// (KIP-480); -1 until chosen.
        var stickyPartition: Int32 = -1
        /// The open batch of each partition, by index.
        var open: [ProducerBatch?]
        /// The size of each open batch (header included), -1 where none is open: appends check
        /// it without touching (and so copying) the batch.
        var openBytes: [Int]

        init(name: String, partitionCount: Int32) {
            self.name = name
            self.partitionCount = partitionCount
            open = Array(repeating: nil, count: Int(partitionCount))
            openBytes = Array(repeating: -1, count: Int(partitionCount))
        }

        mutating func grow(to count: Int32) {
            guard count > partitionCount else { return }
            open += Array(repeating: nil, count: Int(count - partitionCount))
            openBytes += Array(repeating: -1, count: Int(count - partitionCount))
            partitionCount = count
        }
    }

    struct State {
        var slots: [TopicSlot] = []
        var slotIndex: [String: Int] = [:]
        /// The slot of the last append's topic.
        var lastSlot = -1
        var openCount = 0
        var queued: [TopicPartition: CircularBuffer<ProducerBatch>] = [:]
        var inFlight: Set<TopicPartition> = []
        var usedMemory = 0
        var memoryWaiters: [CheckedContinuation<Void, Never>] = []
        var flushWaiters: [CheckedContinuation<Void, Never>] = []
        var isClosing = false

        var isIdle: Bool { openCount == 0 && queued.isEmpty && inFlight.isEmpty }

        /// The slot of `topic`, nil while its partition count is unknown.
        mutating func slot(of topic: String) -> Int? {
            if lastSlot >= 0 && slots[lastSlot].name == topic { return lastSlot }
            guard let slot = slotIndex[topic] else { return nil }
            lastSlot = slot
            return slot
        }

        /// Moves partition `index`'s open batch of `slot` to its send queue.
        mutating func close(slot: Int, index: Int) {
            guard let batch = slots[slot].open[index] else { return }
            slots[slot].open[index] = nil
            slots[slot].openBytes[index] = -1
            openCount -= 1
            queued[batch.partition, default: []].append(batch)
        }
    }

    let batchSize: Int
    let bufferMemory: Int
    let linger: Duration
    let compression: CompressionCodec
    let state = Mutex(State())
    /// Wakes the send loop: an append, a completion, a flush, or a linger deadline.
    let sender = WakeSignal()

    init(configuration: ProducerConfiguration) {
        batchSize = max(1, configuration.batchSize)
        bufferMemory = max(1, configuration.bufferMemory)
        linger = .milliseconds(max(0, configuration.lingerMs))
        compression = configuration.compression
    }

    /// What an append did.
    enum AppendOutcome: Equatable {
        case appended
        /// The buffer is full: wait with ``waitForMemory()`` and try again.
        case bufferFull
        case closed
        /// The topic's partition count is not known: learn it (``learnPartitionCount(of:_:)``)
        /// and try again.
        case unknownTopic
        /// The record names a partition the topic does not have (as far as is known).
        case unknownPartition(partitionCount: Int32)
    }

    /// Tells the accumulator how many partitions `topic` has (counts only grow).
    func learnPartitionCount(of topic: String, _ count: Int32) {
        guard count > 0 else { return }
        state.withLock { state in
            guard let slot = state.slotIndex[topic] else {
                state.slotIndex[topic] = state.slots.count
                state.slots.append(TopicSlot(name: topic, partitionCount: count))
                return
            }
            state.slots[slot].grow(to: count)
        }
    }

    /// Appends a record to its partition's open batch (closing it first when the record would
    /// overflow `batch.size`). The partition is the record's own, the Java partitioner's for
    /// `keyHash` (murmur2 of the key), or the topic's sticky one, which moves on when its batch
    /// closes.
    func append(_ record: ProducerRecord, keyHash: Int32?, timestamp: Int64, delivery: Delivery?) -> AppendOutcome {
        let reserve = (record.key?.readableBytes ?? 0) + (record.value?.readableBytes ?? 0)
            + record.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.readableBytes ?? 0) + 4 } + 24
        let (outcome, wake) = state.withLock { state -> (AppendOutcome, Bool) in
            guard !state.isClosing else { return (.closed, false) }
            guard let slot = state.slot(of: record.topic) else { return (.unknownTopic, false) }
            if state.usedMemory > 0 && state.usedMemory + reserve > bufferMemory { return (.bufferFull, false) }
            let count = state.slots[slot].partitionCount
            let partition: Int32
            if let explicit = record.partition {
                guard explicit >= 0 && explicit < count else { return (.unknownPartition(partitionCount: count), false) }
                partition = explicit
            } else if let keyHash {
                partition = (keyHash & 0x7fff_ffff) % count
            } else {
                if state.slots[slot].stickyPartition < 0 { state.slots[slot].stickyPartition = Int32.random(in: 0..<count) }
                partition = state.slots[slot].stickyPartition
            }
            let index = Int(partition)
            var closed = false
            if state.slots[slot].openBytes[index] > 0 && state.slots[slot].openBytes[index] + reserve > batchSize {
                state.close(slot: slot, index: index)
                closed = true
            }
            let created = state.slots[slot].openBytes[index] < 0
            if created {
                state.slots[slot].open[index] = ProducerBatch(
                    partition: TopicPartition(topic: state.slots[slot].name, partition: partition),
                    encoder: BatchEncoder(compression: compression, capacity: max(batchSize, reserve)),
                    createdAt: .now)
                state.openCount += 1
            }
            let size = state.slots[slot].open[index]!.append(record, timestamp: timestamp, delivery: delivery, reservedBytes: reserve)
            state.slots[slot].openBytes[index] = size
            state.usedMemory += reserve
            if size >= batchSize {
                state.close(slot: slot, index: index)
                closed = true
            }
            if closed && record.partition == nil && keyHash == nil && count > 1 && state.slots[slot].stickyPartition == partition {
                var next = Int32.random(in: 0..<(count - 1))
                if next >= partition { next += 1 }
                state.slots[slot].stickyPartition = next
            }
            // The send loop needs to hear of a new or full batch only if it may send it now:
            // the answer to a batch in flight wakes it anyway.
            let idle = (closed || created) && !state.inFlight.contains(state.slots[slot].open[index]?.partition
                ?? TopicPartition(topic: state.slots[slot].name, partition: partition))
            return (.appended, idle)
        }
        if wake { sender.signal() }
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
            if state.openCount > 0 {
                for slot in state.slots.indices {
                    for index in state.slots[slot].open.indices where state.slots[slot].openBytes[index] >= 0 {
                        guard let createdAt = state.slots[slot].open[index]?.createdAt,
                              let partition = state.slots[slot].open[index]?.partition else { continue }
                        // Behind a batch in flight it cannot go before that one's answer, which
                        // wakes the loop: it keeps filling meanwhile and needs no timer.
                        if !hurry && state.inFlight.contains(partition) { continue }
                        let due = createdAt + linger
                        if hurry || due <= now {
                            state.close(slot: slot, index: index)
                        } else {
                            work.nextDeadline = min(work.nextDeadline ?? due, due)
                        }
                    }
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
        sender.signal()
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
        sender.signal()
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
            var batches: [ProducerBatch] = []
            for slot in state.slots.indices {
                for index in state.slots[slot].open.indices {
                    if let batch = state.slots[slot].open[index] { batches.append(batch) }
                    state.slots[slot].open[index] = nil
                    state.slots[slot].openBytes[index] = -1
                }
            }
            state.openCount = 0
            for queue in state.queued.values { batches += queue }
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
            if resumeNow { continuation.resume() } else { sender.signal() }
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
        sender.signal()
    }
}
