import BrookModel
import BrookProtocol
import BrookRecords
import NIOCore
import Synchronization

extension Consumer {
    /// Starts a Fetch on every leader that has none in flight and owns an unpaused partition
    /// with a known position and room in its buffer: fewer than `max.poll.records` records, or
    /// less than two fetches' worth of bytes, so that one fetch is on its way while the caller
    /// works through the one before.
    func startFetches(maxWait: Duration) {
        let wanted = state.withLock { state -> [TopicPartition: (offset: Int64, generation: Int)] in
            guard !state.isClosed else { return [:] }
            var wanted: [TopicPartition: (Int64, Int)] = [:]
            for (partition, entry) in state.partitions
            where entry.isActive && entry.position != nil
                && (entry.buffered.count < configuration.maxPollRecords || entry.buffered.bytes < 2 * Int(configuration.maxPartitionFetchBytes)) {
                wanted[partition] = (entry.fetchOffset, entry.generation)
            }
            return wanted
        }
        guard !wanted.isEmpty else { return }
        let waitMs = Int32(clamping: max(0, min(Int64(configuration.fetchMaxWaitMs), maxWait.components.seconds * 1_000 + maxWait.components.attoseconds / 1_000_000_000_000_000)))
        Task { await self.fetchFromLeaders(wanted, maxWaitMs: waitMs) }
    }

    private func fetchFromLeaders(_ wanted: [TopicPartition: (offset: Int64, generation: Int)], maxWaitMs: Int32) async {
        var byLeader: [Int32: [TopicPartition]] = [:]
        for topic in Set(wanted.keys.map(\.topic)) {
            let layout: TopicLayout
            do {
                layout = try await self.layout(of: topic)
            } catch let error as ClientError where error.isConnectionFailure {
                try? await Task.sleep(for: .milliseconds(configuration.retryBackoffMs))
                wake()
                return
            } catch {
                fail(error)
                return
            }
            for partition in wanted.keys where partition.topic == topic {
                guard let leader = layout.leaders[partition.partition] else { continue }
                byLeader[leader, default: []].append(partition)
            }
        }
        // One leader (the common case) is fetched from in this task: a child task would cost
        // two more hops between threads per fetch.
        if byLeader.count == 1, let (leader, partitions) = byLeader.first {
            await fetchIfIdle(partitions, from: leader, asked: wanted, maxWaitMs: maxWaitMs)
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for (leader, partitions) in byLeader {
                group.addTask { await self.fetchIfIdle(partitions, from: leader, asked: wanted, maxWaitMs: maxWaitMs) }
            }
        }
    }

    /// Fetches from `leader` unless a fetch from it is in flight already.
    private func fetchIfIdle(
        _ partitions: [TopicPartition], from leader: Int32, asked: [TopicPartition: (offset: Int64, generation: Int)], maxWaitMs: Int32
    ) async {
        guard state.withLock({ $0.fetching.insert(leader).inserted }) else { return }
        await fetch(partitions, from: leader, asked: asked, maxWaitMs: maxWaitMs)
        state.withLock { _ = $0.fetching.remove(leader) }
        wake()
    }

    private func fetch(
        _ partitions: [TopicPartition], from leader: Int32, asked: [TopicPartition: (offset: Int64, generation: Int)], maxWaitMs: Int32
    ) async {
        do {
            let connection = try await cluster.connection(to: leader)
            var version = try connection.negotiatedVersion(of: FetchRequest.self)
            var topicIds: [String: Uuid] = [:]
            for topic in Set(partitions.map(\.topic)) { topicIds[topic] = try await layout(of: topic).topicId }
            if topicIds.values.contains(.zero) { version = min(version, 12) }
            let byTopic = Dictionary(grouping: partitions, by: \.topic)
            let request = FetchRequest(
                maxWaitMs: maxWaitMs, minBytes: configuration.fetchMinBytes, maxBytes: configuration.fetchMaxBytes,
                isolationLevel: configuration.readCommitted ? 1 : 0,
                topics: byTopic.keys.sorted().map { topic in
                    .init(topic: topic, topicId: topicIds[topic] ?? .zero, partitions: byTopic[topic]!.map {
                        .init(partition: $0.partition, fetchOffset: asked[$0]!.offset, partitionMaxBytes: configuration.maxPartitionFetchBytes)
                    })
                })
            let response = try await connection.send(request, version: version)
            guard response.errorCode == 0 else {
                throw ClientError.broker(ErrorCode(rawValue: response.errorCode) ?? .unknownServerError, "Fetch")
            }
            let namesById = Dictionary(topicIds.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
            for topic in response.responses {
                let name = version >= 13 ? namesById[topic.topicId] ?? topic.topic : topic.topic
                for data in topic.partitions {
                    let partition = TopicPartition(topic: name, partition: data.partitionIndex)
                    guard let (offset, generation) = asked[partition] else { continue }
                    try accept(data, for: partition, fetchedFrom: offset, generation: generation)
                }
            }
        } catch let error as ClientError where error.isConnectionFailure {
            // The leader went away (restart, move): look the leaders up again after a pause and
            // keep fetching; the cluster reopens closed connections.
            layouts.withLock { $0 = [:] }
            try? await Task.sleep(for: .milliseconds(configuration.retryBackoffMs))
        } catch {
            fail(error)
        }
    }

    /// Decodes one partition's answer and buffers its records, unless a seek made it stale.
    private func accept(_ data: FetchResponse.PartitionData, for partition: TopicPartition, fetchedFrom offset: Int64, generation: Int) throws {
        let code = ErrorCode(rawValue: data.errorCode) ?? .unknownServerError
        switch code {
        case .none:
            break
        case .offsetOutOfRange:
            // Start over per auto.offset.reset.
            state.withLock { state in
                guard state.partitions[partition]?.generation == generation else { return }
                state.partitions[partition]!.position = nil
                state.partitions[partition]!.buffered.removeAll()
                state.partitions[partition]!.generation += 1
            }
            return
        case _ where code.isRetriable:
            layouts.withLock { $0[partition.topic] = nil }
            return
        default:
            throw ClientError.broker(code, "\(partition) at offset \(offset)")
        }
        var filter = configuration.readCommitted
            ? AbortedTransactionFilter(abortedTransactions: (data.abortedTransactions ?? []).map { ($0.producerId, $0.firstOffset) })
            : nil
        var batches: [RecordBatch] = []
        var next = offset
        var reader = RecordBatchReader(data.records ?? ByteBuffer(), allowsTruncatedTail: true)
        while let batch = try reader.next() {
            guard batch.nextOffset > next else { continue }
            defer { next = batch.nextOffset }
            if let keep = filter?.keeps(batch), !keep { continue }
            if batch.isControlBatch { continue }
            batches.append(batch)
        }
        var records: [ConsumerRecord] = []
        records.reserveCapacity(batches.reduce(0) { $0 + Int(max(0, $1.recordCount)) })
        for batch in batches {
            var iterator = try batch.makeRecordIterator()
            let (timestampType, leaderEpoch) = (batch.timestampType, batch.partitionLeaderEpoch)
            try iterator.forEachRemaining { record in
                guard record.offset >= offset else { return }
                records.append(ConsumerRecord(
                    topic: partition.topic, partition: partition.partition, offset: record.offset,
                    timestamp: record.timestamp, timestampType: timestampType, key: record.key, value: record.value,
                    headers: record.headers, leaderEpoch: leaderEpoch))
            }
        }
        state.withLock { state in
            guard state.partitions[partition]?.generation == generation, state.partitions[partition]?.fetchOffset == offset else { return }
            // Changed in place: a copy of the entry would copy its buffer on write.
            state.partitions[partition]!.buffered.append(records, bytes: data.records?.readableBytes ?? 0)
            state.partitions[partition]!.fetchOffset = max(offset, next)
            state.partitions[partition]!.highWatermark = data.highWatermark
        }
    }

    private func fail(_ error: any Error) {
        state.withLock { state in
            if !state.isClosed { state.failure = state.failure ?? error }
        }
        wake()
    }

    func layout(of topic: String) async throws -> TopicLayout {
        if let known = layouts.withLock({ $0[topic] }) { return known }
        let layout = try await cluster.topicLayout(topic)
        layouts.withLock { $0[topic] = layout }
        return layout
    }
}
