@testable import BrookBroker
import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import Logging
import Testing

/// The transaction coordinator's handlers over real partitions: a broker's group and transaction
/// hosts without a network.
struct TransactionFixture {
    let partitions: PartitionFixture
    let groups: GroupCoordinatorHost
    let transactions: TransactionCoordinatorHost

    init() throws {
        partitions = try PartitionFixture()
        let logger = Logger(label: "test")
        var groupSettings = GroupCoordinatorHost.Settings()
        groupSettings.group.offsetsTopicPartitions = 3
        groups = GroupCoordinatorHost(settings: groupSettings, metadata: partitions.metadata, partitions: partitions.manager, logger: logger)
        var settings = TransactionCoordinatorHost.Settings()
        settings.transaction.statePartitions = 3
        let metadata = partitions.metadata
        transactions = TransactionCoordinatorHost(
            settings: settings, metadata: metadata, partitions: partitions.manager,
            markers: LocalMarkerWriter(partitions: partitions.manager.table, groups: groups),
            producerIds: ProducerIdManager { try metadata.allocateProducerIds(count: $0) }, logger: logger)
    }

    var initProducerId: InitProducerIdHandler {
        InitProducerIdHandler(producerIds: transactions.producerIds, transactions: transactions)
    }
    var addPartitions: AddPartitionsToTxnHandler { AddPartitionsToTxnHandler(transactions: transactions, metadata: partitions.metadata) }
    var endTxn: EndTxnHandler { EndTxnHandler(transactions: transactions) }

    func initialise(_ id: String, version: Int16 = 4) async throws -> InitProducerIdResponse {
        try await serve(initProducerId, InitProducerIdRequest(transactionalId: id, transactionTimeoutMs: 60_000), version: version)
    }

    func add(_ id: String, _ producer: InitProducerIdResponse, topic: String = "t", partitions: [Int32] = [0], version: Int16 = 3)
        async throws -> [Int32: ErrorCode]
    {
        let request = AddPartitionsToTxnRequest(
            v3AndBelowTransactionalId: id, v3AndBelowProducerId: producer.producerId, v3AndBelowProducerEpoch: producer.producerEpoch,
            v3AndBelowTopics: [.init(name: topic, partitions: partitions)])
        let response = try await serve(addPartitions, request, version: version)
        return Dictionary(uniqueKeysWithValues: response.resultsByTopicV3AndBelow.flatMap { topic in
            topic.resultsByPartition.map { ($0.partitionIndex, ErrorCode(rawValue: $0.partitionErrorCode)!) }
        })
    }

    /// A second host over the same metadata and logs, as a broker restart makes.
    /// A new host over the same topic, as after a restart, loaded (its replay is waited for).
    func restartedHost() throws -> TransactionCoordinatorHost {
        let metadata = partitions.metadata
        var settings = TransactionCoordinatorHost.Settings()
        settings.transaction.statePartitions = 3
        let host = TransactionCoordinatorHost(
            settings: settings, metadata: metadata, partitions: partitions.manager,
            markers: LocalMarkerWriter(partitions: partitions.manager.table, groups: groups),
            producerIds: ProducerIdManager { try metadata.allocateProducerIds(count: $0) }, logger: Logger(label: "test"))
        try host.loadNow()
        return host
    }

    func remove() { partitions.remove() }
}

@Suite struct TransactionHandlersTests {
    @Test(arguments: [0, 2, 3, 4, 5] as [Int16]) func initProducerIdBumpsTheEpochPerCall(version: Int16) async throws {
        let fixture = try TransactionFixture()
        defer { fixture.remove() }
        let first = try await fixture.initialise("tx", version: version)
        #expect(first.errorCode == 0)
        #expect(first.producerEpoch == 0)
        let second = try await fixture.initialise("tx", version: version)
        #expect(second.producerId == first.producerId)
        #expect(second.producerEpoch == 1)
        // Idempotent producers still get a fresh id each time.
        let idempotent = try await serve(fixture.initProducerId, InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: -1), version: version)
        #expect(idempotent.errorCode == 0 && idempotent.producerId != first.producerId)
        let empty = try await serve(fixture.initProducerId, InitProducerIdRequest(transactionalId: "", transactionTimeoutMs: 1_000), version: version)
        #expect(empty.errorCode == ErrorCode.invalidRequest.rawValue)
        let tooLong = try await serve(fixture.initProducerId, InitProducerIdRequest(transactionalId: "x", transactionTimeoutMs: 900_001), version: version)
        #expect(tooLong.errorCode == ErrorCode.invalidTransactionTimeout.rawValue)
    }

    @Test func addPartitionsRefusesUnknownPartitionsAndStaleEpochsByVersion() async throws {
        let fixture = try TransactionFixture()
        defer { fixture.remove() }
        try fixture.partitions.topic("t", partitions: 2)
        let stale = try await fixture.initialise("tx")
        let producer = try await fixture.initialise("tx")
        #expect(try await fixture.add("tx", producer, partitions: [0, 7]) == [0: .operationNotAttempted, 7: .unknownTopicOrPartition])
        #expect(try await fixture.add("tx", producer, topic: "missing") == [0: .unknownTopicOrPartition])
        #expect(try await fixture.add("tx", stale, version: 1) == [0: .invalidProducerEpoch])
        #expect(try await fixture.add("tx", stale, version: 2) == [0: .producerFenced])
        #expect(try await fixture.add("other", producer) == [0: .invalidProducerIdMapping])
        #expect(try await fixture.add("tx", producer, partitions: [0, 1]) == [0: .none, 1: .none])
    }

    @Test func batchedAddAndVerifyOnly() async throws {
        let fixture = try TransactionFixture()
        defer { fixture.remove() }
        try fixture.partitions.topic("t", partitions: 2)
        let producer = try await fixture.initialise("tx")
        func transaction(verifyOnly: Bool, partitions: [Int32]) -> AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction {
            .init(transactionalId: "tx", producerId: producer.producerId, producerEpoch: producer.producerEpoch,
                  verifyOnly: verifyOnly, topics: [.init(name: "t", partitions: partitions)])
        }
        let added = try await serve(fixture.addPartitions, AddPartitionsToTxnRequest(transactions: [transaction(verifyOnly: false, partitions: [0])]), version: 4)
        #expect(added.resultsByTransaction.first?.topicResults.first?.resultsByPartition.map(\.partitionErrorCode) == [0])
        let verified = try await serve(
            fixture.addPartitions, AddPartitionsToTxnRequest(transactions: [transaction(verifyOnly: true, partitions: [0, 1])]), version: 5)
        #expect(verified.resultsByTransaction.first?.topicResults.first?.resultsByPartition.map(\.partitionErrorCode)
            == [0, ErrorCode.invalidTxnState.rawValue])
    }

    @Test func endTxnWritesMarkersAndTheQueriesSeeTheOutcome() async throws {
        let fixture = try TransactionFixture()
        defer { fixture.remove() }
        try fixture.partitions.topic("t", partitions: 1)
        let producer = try await fixture.initialise("tx")
        #expect(try await fixture.add("tx", producer) == [0: .none])
        let configuration = RecordBatchBuilder.Configuration(
            producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: 0, isTransactional: true)
        var builder = RecordBatchBuilder(configuration: configuration)
        // Current time: an old timestamp would make the marker roll a segment (segment.ms).
        builder.append(timestamp: GroupCoordinator.wallClockMilliseconds(), key: nil, value: nil)
        try fixture.partitions.partition("t").appendAsLeader(try builder.build(), requiredAcks: 1)

        let describeProducers = DescribeProducersHandler(partitions: fixture.partitions.manager.table)
        let before = try await serve(describeProducers, DescribeProducersRequest(topics: [.init(name: "t", partitionIndexes: [0, 9])]), version: 0)
        #expect(before.topics[0].partitions[0].activeProducers.map(\.currentTxnStartOffset) == [0])
        #expect(before.topics[0].partitions[1].errorCode == ErrorCode.unknownTopicOrPartition.rawValue)

        let end = EndTxnRequest(transactionalId: "tx", producerId: producer.producerId, producerEpoch: producer.producerEpoch, committed: true)
        #expect(try await serve(fixture.endTxn, end, version: 3).errorCode == 0)
        let stored = try fixture.partitions.storedBatches("t")
        #expect(stored.map(\.isControlBatch) == [false, true])
        #expect(fixture.partitions.partition("t").lastStableOffset == 2)
        // A retry of the same EndTxn succeeds; the opposite outcome is refused.
        #expect(try await serve(fixture.endTxn, end, version: 3).errorCode == 0)
        var abort = end
        abort.committed = false
        #expect(try await serve(fixture.endTxn, abort, version: 3).errorCode == ErrorCode.invalidTxnState.rawValue)

        let describe = DescribeTransactionsHandler(transactions: fixture.transactions)
        let described = try await serve(describe, DescribeTransactionsRequest(transactionalIds: ["tx", "nope"]), version: 0)
        #expect(described.transactionStates.map(\.transactionState) == ["CompleteCommit", ""])
        #expect(described.transactionStates[1].errorCode == ErrorCode.transactionalIdNotFound.rawValue)

        let list = ListTransactionsHandler(transactions: fixture.transactions)
        let all = try await serve(list, ListTransactionsRequest(), version: 1)
        #expect(all.transactionStates.map(\.transactionalId) == ["tx"])
        let filtered = try await serve(list, ListTransactionsRequest(stateFilters: ["Ongoing", "Bogus"]), version: 0)
        #expect(filtered.transactionStates.isEmpty)
        #expect(filtered.unknownStateFilters == ["Bogus"])
    }

    @Test func eachLoadTakesAHigherCoordinatorEpochAndAMarkerAboveItCannotPinTheLastStableOffset() async throws {
        let fixture = try TransactionFixture()
        defer { fixture.remove() }
        try fixture.partitions.topic("t", partitions: 1)
        let partition = { fixture.partitions.partition("t") }
        let markers = WriteTxnMarkersHandler(
            partitions: fixture.partitions.manager.table, groups: fixture.groups,
            highestCoordinatorEpoch: { [transactions = fixture.transactions] in transactions.highestCoordinatorEpoch })
        func transaction(_ host: TransactionCoordinatorHost, _ producer: InitProducerIdResponse, sequence: Int32) async throws {
            let add = AddPartitionsToTxnRequest(
                v3AndBelowTransactionalId: "tx", v3AndBelowProducerId: producer.producerId,
                v3AndBelowProducerEpoch: producer.producerEpoch, v3AndBelowTopics: [.init(name: "t", partitions: [0])])
            let added = try await serve(AddPartitionsToTxnHandler(transactions: host, metadata: fixture.partitions.metadata), add, version: 3)
            #expect(added.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode == 0)
            var builder = RecordBatchBuilder(configuration: .init(
                producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: sequence, isTransactional: true))
            builder.append(timestamp: GroupCoordinator.wallClockMilliseconds(), key: nil, value: nil)
            try partition().appendAsLeader(try builder.build(), requiredAcks: 1)
            #expect(partition().lastStableOffset < partition().highWatermark)
            let end = EndTxnRequest(transactionalId: "tx", producerId: producer.producerId, producerEpoch: producer.producerEpoch, committed: true)
            #expect(try await serve(EndTxnHandler(transactions: host), end, version: 3).errorCode == 0)
        }

        let producer = try await fixture.initialise("tx")
        #expect(try fixture.transactions.coordinator().shards.map(\.coordinatorEpoch) == [1, 1, 1])
        #expect(fixture.transactions.highestCoordinatorEpoch == 1)
        try await transaction(fixture.transactions, producer, sequence: 0)
        #expect(partition().log.producerState.entries[producer.producerId]?.coordinatorEpoch == 1)

        // A marker claiming a coordinator epoch no coordinator has had is refused and writes nothing.
        let forged = WriteTxnMarkersRequest(markers: [.init(
            producerId: producer.producerId, producerEpoch: producer.producerEpoch, transactionResult: false,
            topics: [.init(name: "t", partitionIndexes: [0])], coordinatorEpoch: Int32.max)])
        let refused = try await serve(markers, forged, version: 1)
        #expect(refused.markers[0].topics[0].partitions[0].errorCode == ErrorCode.transactionCoordinatorFenced.rawValue)
        #expect(partition().log.producerState.entries[producer.producerId]?.coordinatorEpoch == 1)
        // So the coordinator's next markers are written and the last stable offset moves on.
        try await transaction(fixture.transactions, producer, sequence: 1)
        #expect(partition().lastStableOffset == partition().highWatermark)

        // After a restart the coordinator loads at a higher epoch, and its markers are written.
        fixture.transactions.started?.shutdown()
        let restarted = try fixture.restartedHost()
        #expect(try restarted.coordinator().shards.map(\.coordinatorEpoch) == [2, 2, 2])
        #expect(restarted.highestCoordinatorEpoch == 2)
        let initialised = try await serve(
            InitProducerIdHandler(producerIds: restarted.producerIds, transactions: restarted),
            InitProducerIdRequest(transactionalId: "tx", transactionTimeoutMs: 60_000), version: 4)
        #expect(initialised.errorCode == 0)
        try await transaction(restarted, initialised, sequence: 0)
        #expect(partition().lastStableOffset == partition().highWatermark)
        #expect(partition().log.producerState.entries[producer.producerId]?.coordinatorEpoch == 2)
    }

    @Test func addOffsetsAddsTheGroupsOffsetsPartition() async throws {
        let fixture = try TransactionFixture()
        defer { fixture.remove() }
        let producer = try await fixture.initialise("tx")
        let handler = AddOffsetsToTxnHandler(transactions: fixture.transactions, groups: fixture.groups)
        let request = AddOffsetsToTxnRequest(
            transactionalId: "tx", producerId: producer.producerId, producerEpoch: producer.producerEpoch, groupId: "group")
        #expect(try await serve(handler, request, version: 3).errorCode == 0)
        let expected = TopicPartition(
            topic: "__consumer_offsets", partition: GroupCoordinator.partition(for: "group", partitions: 3))
        #expect(try await fixture.transactions.coordinator().shard(for: "tx").transaction("tx")?.partitions == [expected])
        var stale = request
        stale.producerEpoch -= 1
        #expect(try await serve(handler, stale, version: 1).errorCode == ErrorCode.invalidProducerEpoch.rawValue)
    }

    @Test func produceWritesATransactionsFirstBatchOnlyToPartitionsInTheTransaction() async throws {
        let fixture = try TransactionFixture()
        defer { fixture.remove() }
        try fixture.partitions.topic("t", partitions: 1)
        let producer = try await fixture.initialise("tx")
        let handler = ProduceHandler(
            partitions: fixture.partitions.manager.table, verifier: ProduceTransactionVerifier(transactions: fixture.transactions))
        func produce(sequence: Int32) async throws -> ErrorCode {
            let configuration = RecordBatchBuilder.Configuration(
                producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: sequence, isTransactional: true)
            var builder = RecordBatchBuilder(configuration: configuration)
            builder.append(timestamp: GroupCoordinator.wallClockMilliseconds(), key: nil, value: nil)
            var request = ProducedBatch.request("t", try builder.build(), acks: -1)
            request.transactionalId = "tx"
            return ErrorCode(rawValue: try await serve(handler, request, version: 9).first.errorCode)!
        }
        #expect(try await produce(sequence: 0) == .invalidTxnState)
        #expect(try fixture.partitions.storedBatches("t").isEmpty)
        #expect(try await fixture.add("tx", producer) == [0: .none])
        #expect(try await produce(sequence: 0) == .none)
        #expect(try await produce(sequence: 1) == .none)
        let end = EndTxnRequest(transactionalId: "tx", producerId: producer.producerId, producerEpoch: producer.producerEpoch, committed: false)
        #expect(try await serve(fixture.endTxn, end, version: 3).errorCode == 0)
        // A late write after the transaction ended would open one no coordinator knows.
        #expect(try await produce(sequence: 2) == .invalidTxnState)
        #expect(fixture.partitions.partition("t").lastStableOffset == 3)
    }
}
