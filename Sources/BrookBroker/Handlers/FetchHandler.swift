import BrookModel
import BrookProtocol
import BrookStorage
import NIOCore

/// Fetch: reads whole batches from each partition's log and sends them with zero copies (file
/// regions). Waits up to `max.wait.ms` for `min.bytes`, woken by appends; keeps KIP-227 sessions.
/// Every partition reports its last stable offset; with isolation_level READ_COMMITTED (v4+) data
/// stops there and the aborted transactions overlapping what is returned are listed, so the
/// consumer can drop their records.
///
/// In a cluster, followers answer consumers too (KIP-392: from Fetch v11, reading up to their own
/// high watermark), and a leader with a rack-aware `replica.selector.class` sends a consumer that
/// names its rack to an in-sync replica in that rack (`preferred_read_replica`).
struct FetchHandler: FramingRequestHandler {
    typealias Request = FetchRequest
    let versions: ClosedRange<Int16> = 0...17
    let partitions: PartitionTable
    let metadata: MetadataStore
    let sessions: FetchSessionCache
    let maximumResponseBytes: Int
    /// The metadata quorum, when this node is part of one: it answers fetches of
    /// `__cluster_metadata-0` from other replicas.
    var quorum: QuorumDriver? = nil
    /// In a cluster: what a leader learns from its followers' fetches goes there (ISR changes).
    var replicas: ReplicaManager? = nil
    /// `replica.selector.class`: where a leader sends consumers to read (KIP-392).
    var replicaSelector: ReplicaSelector = .leader

    /// One partition to read, with where the answer goes.
    private struct Target {
        var key: TopicPartition
        var topicId: Uuid
        var fetchOffset: Int64
        var maxBytes: Int32
        var currentLeaderEpoch: Int32
        var lastFetchedEpoch: Int32 = -1
        /// The fetcher's log start (a follower's, v5+).
        var logStartOffset: Int64 = -1
    }

    func respond(to request: FetchRequest, context: RequestContext) async throws -> RoutedResponse {
        let version = context.apiVersion
        // A follower's fetch (a replica id, KIP-903's ReplicaState from v15) reads up to the log
        // end; with ACLs it needs CLUSTER_ACTION, as the quorum's fetches do.
        let replicaId = version >= 15 ? request.replicaState.replicaId : request.replicaId
        let replica = replicaId >= 0 ? replicaId : nil
        // Followers' (and the quorum's) fetches are exempt from request quotas, as in Kafka.
        if replica != nil { context.requestTimer?.exempt() }
        let followerAllowed = replica == nil || context.authorizedOnCluster(.clusterAction)
        if let quorum, RaftWire.isQuorumFetch(request) {
            guard followerAllowed else {
                return try frame(
                    FetchResponse(throttleTimeMs: 0, errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, sessionId: 0),
                    version: version, context: context)
            }
            return try await quorumFetch(request, quorum: quorum, context: context)
        }
        let image = metadata.image
        var refusedTopics: [FetchResponse.FetchableTopicResponse] = []

        // Resolve the partitions the request names (by name before v13, by id from v13).
        var named: [Target] = []
        for topic in request.topics {
            let name = version >= 13 ? image.topic(id: topic.topicId)?.name : topic.topic
            guard let name else {
                refusedTopics.append(FetchResponse.FetchableTopicResponse(
                    topic: "", topicId: topic.topicId,
                    partitions: topic.partitions.map {
                        .init(partitionIndex: $0.partition, errorCode: ErrorCode.unknownTopicId.rawValue, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1)
                    }
                ))
                continue
            }
            let topicId = image.topics[name]?.id ?? topic.topicId
            // A consumer needs READ on the topic; refused partitions stay out of the session.
            guard followerAllowed, replica != nil || context.authorized(.read, .topic, name) else {
                refusedTopics.append(FetchResponse.FetchableTopicResponse(
                    topic: name, topicId: topicId,
                    partitions: topic.partitions.map {
                        .init(partitionIndex: $0.partition, errorCode: ErrorCode.topicAuthorizationFailed.rawValue, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1)
                    }
                ))
                continue
            }
            for partition in topic.partitions {
                named.append(Target(
                    key: TopicPartition(topic: name, partition: partition.partition), topicId: topicId,
                    fetchOffset: partition.fetchOffset, maxBytes: partition.partitionMaxBytes,
                    currentLeaderEpoch: partition.currentLeaderEpoch, lastFetchedEpoch: version >= 12 ? partition.lastFetchedEpoch : -1,
                    logStartOffset: partition.logStartOffset
                ))
            }
        }

        // Fold them into the session, if there is one.
        let resolution = version >= 7 ? sessions.resolve(sessionId: request.sessionId, epoch: request.sessionEpoch) : .sessionless
        var sessionId: Int32 = 0
        var incremental = false
        var targets = named
        switch resolution {
        case .error(let code):
            return try frame(FetchResponse(throttleTimeMs: 0, errorCode: code.rawValue, sessionId: 0), version: version, context: context)
        case .sessionless:
            break
        case .session(let id, let isFull):
            sessionId = id
            incremental = !isFull
            let forgotten: [TopicPartition] = request.forgottenTopicsData.flatMap { topic in
                let name = version >= 13 ? (image.topic(id: topic.topicId)?.name ?? "") : topic.topic
                return topic.partitions.map { TopicPartition(topic: name, partition: $0) }
            }
            targets = sessions.update(id) { session in
                for key in forgotten { session.remove(key) }
                for target in named {
                    session.upsert(target.key, .init(
                        topicId: target.topicId, fetchOffset: target.fetchOffset,
                        partitionMaxBytes: target.maxBytes, currentLeaderEpoch: target.currentLeaderEpoch
                    ))
                }
                return session.order.compactMap { key in
                    session.partitions[key].map {
                        Target(key: key, topicId: $0.topicId, fetchOffset: $0.fetchOffset, maxBytes: $0.partitionMaxBytes, currentLeaderEpoch: $0.currentLeaderEpoch)
                    }
                }
            } ?? named
        }

        let limit = max(0, min(Int(request.maxBytes), maximumResponseBytes))
        let deadline = ContinuousClock.now + .milliseconds(max(0, Int(request.maxWaitMs)))
        // READ_COMMITTED (v4+): data only below the last stable offset, with the aborted transactions.
        let readCommitted = request.isolationLevel == 1 && version >= 4 && replica == nil
        // A consumer's fetch from v11 says where the consumer is (KIP-392): followers serve it.
        let clientRack = replica == nil && version >= 11 ? request.rackId : nil
        let read = { self.read(targets, limit: limit, readCommitted: readCommitted, replica: replica, clientRack: clientRack) }
        var reads = read()
        // A cancelled task (the broker is shutting down) answers with what it has at once.
        while reads.bytes < Int(request.minBytes), !reads.answerNow, request.maxWaitMs > 0,
              ContinuousClock.now < deadline, !Task.isCancelled {
            let waiter = FetchWaiter()
            let watched = targets.compactMap { partitions.partition($0.key) }
            for partition in watched { partition.waiters.add(waiter) }
            // An append between the read and the registration would be missed; read again first.
            let recheck = read()
            if recheck.bytes >= Int(request.minBytes) || recheck.answerNow {
                for partition in watched { partition.waiters.remove(waiter) }
                reads = recheck
                break
            }
            await context.waiting { await waiter.wait(timeout: deadline - ContinuousClock.now) }
            for partition in watched { partition.waiters.remove(waiter) }
            reads = read()
        }

        // A consumer over its consumer_byte_rate gets an empty answer with the time to wait (the
        // bytes it would have had are not counted), as in Kafka; its connection is muted that long.
        if replica == nil, let quotas = context.quotas, quotas.manager.isActive {
            let throttle = quotas.record(.fetch, Double(reads.bytes), context: context)
            if throttle > 0 {
                quotas.unrecord(.fetch, Double(reads.bytes), context: context)
                return try frame(
                    FetchResponse(throttleTimeMs: max(throttle, context.requestThrottle()), errorCode: 0, sessionId: sessionId, responses: []), version: version, context: context)
            }
        }

        // Build the response, skipping unchanged partitions of an incremental session.
        var topics: [FetchResponse.FetchableTopicResponse] = refusedTopics
        var regions: [(topic: Int, partition: Int, region: LogFileRegion)] = []
        for (target, result) in zip(targets, reads.results) {
            if sessionId != 0 {
                let changed = sessions.update(sessionId) { session -> Bool in
                    if let next = result.nextOffset { session.advance(target.key, to: next) }
                    return session.noteSent(target.key, highWatermark: result.data.highWatermark,
                                            logStartOffset: result.data.logStartOffset, lastStableOffset: result.data.lastStableOffset)
                } ?? true
                if incremental && !changed && result.region == nil && result.data.errorCode == 0
                    && result.data.preferredReadReplica < 0 { continue }
            }
            if topics.last?.topic != target.key.topic || topics.last?.topicId != target.topicId || topics.count == refusedTopics.count {
                topics.append(FetchResponse.FetchableTopicResponse(topic: target.key.topic, topicId: target.topicId, partitions: []))
            }
            var data = result.data
            if version < 4, let region = result.region {
                Self.downConvert(region, version: version, fetchOffset: target.fetchOffset, into: &data)
                topics[topics.count - 1].partitions.append(data)
                continue
            }
            topics[topics.count - 1].partitions.append(data)
            if let region = result.region {
                regions.append((topics.count - 1, topics[topics.count - 1].partitions.count - 1, region))
            }
        }
        let response = FetchResponse(throttleTimeMs: context.requestThrottle(), errorCode: 0, sessionId: sessionId, responses: topics)
        return try frame(response, version: version, context: context, regions: regions)
    }

    /// The outcome of reading every target once.
    private struct Reads {
        var results: [(data: FetchResponse.PartitionData, region: LogFileRegion?, nextOffset: Int64?)] = []
        var bytes = 0
        /// A partition erred or was sent elsewhere: the fetch answers without waiting.
        var answerNow = false
    }

    /// Reads every target once. `clientRack` is set for a consumer's fetch from v11, which a
    /// follower may serve and a leader may send to a closer replica.
    private func read(_ targets: [Target], limit: Int, readCommitted: Bool, replica: Int32?, clientRack: String?) -> Reads {
        var reads = Reads()
        for target in targets {
            var data = FetchResponse.PartitionData(partitionIndex: target.key.partition, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1)
            guard let partition = partitions.partition(target.key) else {
                data.errorCode = MetadataImage.missingPartitionError(target.key, in: metadata).rawValue
                reads.answerNow = true
                reads.results.append((data, nil, nil))
                continue
            }
            let (leads, leaderEpoch) = partition.role
            guard leads || clientRack != nil else {
                data.errorCode = ErrorCode.notLeaderOrFollower.rawValue
                reads.answerNow = true
                reads.results.append((data, nil, nil))
                continue
            }
            if target.currentLeaderEpoch >= 0 && target.currentLeaderEpoch != leaderEpoch {
                data.errorCode = (target.currentLeaderEpoch > leaderEpoch ? ErrorCode.unknownLeaderEpoch : ErrorCode.fencedLeaderEpoch).rawValue
                reads.answerNow = true
                reads.results.append((data, nil, nil))
                continue
            }
            if leads, let clientRack,
                let preferred = preferredReadReplica(partition, fetchOffset: target.fetchOffset, clientRack: clientRack)
            {
                // Sent to a closer replica: the offsets, no records (Kafka's answer).
                data.preferredReadReplica = preferred
                data.highWatermark = partition.highWatermark
                data.lastStableOffset = partition.log.lastStableOffset(highWatermark: data.highWatermark)
                data.logStartOffset = partition.log.logStartOffset
                reads.answerNow = true
                reads.results.append((data, nil, nil))
                continue
            }
            // A follower's fetch: checked, recorded (moving the high watermark), or answered with
            // the epoch its log diverges at; held back while its throttle is exceeded.
            var throttled = false
            if let replica {
                if followerFetchAnswered(target, replica: replica, partition: partition, into: &data) {
                    reads.answerNow = true
                    reads.results.append((data, nil, nil))
                    continue
                }
                throttled = replicas?.isLeaderThrottled(partition, follower: replica) ?? false
            }
            let highWatermark = partition.highWatermark
            data.highWatermark = highWatermark
            let lastStableOffset = partition.log.lastStableOffset(highWatermark: highWatermark)
            data.lastStableOffset = lastStableOffset
            data.logStartOffset = partition.log.logStartOffset
            let remaining = limit - reads.bytes
            guard remaining > 0 || reads.bytes == 0,
                !throttled || !(replicas?.leaderQuota.isExceeded(nowMs: ReplicaManager.nowMs()) ?? false)
            else {
                reads.results.append((data, nil, nil))
                continue
            }
            do {
                let maxBytes = max(1, min(Int(target.maxBytes), remaining))
                let result = try partition.log.read(
                    from: target.fetchOffset, maxBytes: maxBytes,
                    upTo: replica != nil ? nil : readCommitted ? lastStableOffset : highWatermark)
                data.logStartOffset = result.logStartOffset
                if readCommitted {
                    data.abortedTransactions = result.region == nil ? [] : partition.log
                        .abortedTransactions(from: target.fetchOffset, to: result.nextOffset)
                        .map { .init(producerId: $0.producerId, firstOffset: $0.firstOffset) }
                }
                // Only the first partition with data may exceed the limits (KIP-74).
                if let region = result.region, reads.bytes == 0 || region.length <= remaining {
                    reads.bytes += region.length
                    if throttled { replicas?.leaderQuota.record(region.length, nowMs: ReplicaManager.nowMs()) }
                    reads.results.append((data, region, result.nextOffset))
                } else {
                    reads.results.append((data, nil, nil))
                }
            } catch {
                data.errorCode = error.errorCode.rawValue
                reads.answerNow = true
                reads.results.append((data, nil, nil))
            }
        }
        return reads
    }

    /// The leader's side of a follower's fetch of `partition` (which ``read`` found this broker
    /// leading): records its progress and
    /// returns false to read on; or returns true with `data` answering at once, without
    /// records: the error when the node is not a replica, or the epoch where the follower's log
    /// diverges (it truncates there first, KIP-320).
    private func followerFetchAnswered(
        _ target: Target, replica: Int32, partition: Partition, into data: inout FetchResponse.PartitionData
    ) -> Bool {
        guard partition.replicas.contains(replica) else {
            data.errorCode = ErrorCode.notLeaderOrFollower.rawValue
            return true
        }
        if target.lastFetchedEpoch >= 0 {
            let known = partition.log.endOffset(forEpoch: LeaderEpoch(target.lastFetchedEpoch))
            if let diverging = ReplicaFetchResult.divergingEpoch(
                lastFetchedEpoch: target.lastFetchedEpoch, fetchOffset: target.fetchOffset, leaderEnd: known)
            {
                data.divergingEpoch = .init(epoch: diverging.epoch.rawValue, endOffset: diverging.endOffset.rawValue)
                data.highWatermark = partition.highWatermark
                data.logStartOffset = partition.log.logStartOffset
                data.lastStableOffset = partition.log.lastStableOffset(highWatermark: data.highWatermark)
                return true
            }
        }
        let settings = replicas?.settings
        if let change = partition.recordFollowerFetch(
            replica: replica, fetchOffset: target.fetchOffset, logStartOffset: target.logStartOffset,
            leaderEndOffset: partition.log.logEndOffset,
            now: ReplicaManager.nowMs(), maxLagMs: settings?.lagTimeMaxMs ?? 30_000, canJoin: { replicas?.canJoinIsr($0) ?? true })
        {
            replicas?.requestIsrChange(change)
        }
        return false
    }

    /// Where a leader sends a consumer in `clientRack` to read from `fetchOffset`, per
    /// `replica.selector.class`: an in-sync follower holding the offset on a live broker, or nil
    /// for the leader itself.
    private func preferredReadReplica(_ partition: Partition, fetchOffset: Int64, clientRack: String) -> Int32? {
        guard replicaSelector != .leader, !clientRack.isEmpty, let localId = replicas?.settings.localId else { return nil }
        let image = metadata.image
        let followers = partition.followersHolding(fetchOffset).compactMap { follower -> ReplicaSelector.Candidate? in
            guard let registration = image.registrations[follower.id], registration.isUsable else { return nil }
            return .init(brokerId: follower.id, rack: registration.rack, logEndOffset: follower.logEndOffset,
                         lastCaughtUpMs: follower.lastCaughtUpMs)
        }
        guard !followers.isEmpty else { return nil }
        return replicaSelector.preferredReadReplica(
            clientRack: clientRack, leaderRack: image.registrations[localId]?.rack, followers: followers)
    }

    /// Frames the response, sending each region's bytes straight from its file.
    private func frame(
        _ response: FetchResponse, version: Int16, context: RequestContext,
        regions: [(topic: Int, partition: Int, region: LogFileRegion)] = []
    ) throws -> RoutedResponse {
        var byPosition: [Int: [Int: LogFileRegion]] = [:]
        for entry in regions { byPosition[entry.topic, default: [:]][entry.partition] = entry.region }
        let segments = try response.frameSegments(version: version, correlationId: context.correlationId) { topic, partition in
            byPosition[topic]?[partition]?.length
        }
        var parts: [IOData] = []
        var handles: [NIOFileHandle] = []
        parts.reserveCapacity(segments.count)
        do {
            for segment in segments {
                switch segment {
                case .bytes(let bytes):
                    parts.append(.byteBuffer(bytes))
                case .records(let topic, let partition, _):
                    let region = byPosition[topic]![partition]!
                    let handle = NIOFileHandle(descriptor: try region.file.duplicateDescriptor())
                    handles.append(handle)
                    let start = Int(region.position)
                    parts.append(.fileRegion(FileRegion(fileHandle: handle, readerIndex: start, endIndex: start + region.length)))
                }
            }
        } catch {
            for handle in handles { try? handle.close() }
            throw error
        }
        return .parts(parts, fileHandles: handles)
    }
}
