import BrookRecords
import NIOCore
import Testing

@testable import BrookStorage

/// The cleaner's transaction rules in isolation: `TransactionTracker` verdicts and the
/// ``RecordFilter`` paths for aborted data and obsolete markers.
@Suite struct CleanerTransactionTests {
    typealias Entry = CleanerFixtures.Entry

    static let now: Int64 = 1_000_000
    static let retention: Int64 = 10_000

    /// A transactional data batch of `producer` at `offsets` (one keyed record each).
    private func data(_ producer: Int64, _ offsets: ClosedRange<Int64>, transactional: Bool = true) throws -> RecordBatch {
        try CleanerFixtures.batch(offsets.map { Entry(offset: $0, key: "k\($0)", value: "v\($0)") }) {
            $0.producerId = producer
            $0.producerEpoch = 0
            $0.baseSequence = 0
            $0.isTransactional = transactional
        }
    }

    /// A COMMIT or ABORT marker of `producer` at `offset`.
    private func marker(_ producer: Int64, at offset: Int64, commit: Bool, epoch: Int16 = 0) throws -> RecordBatch {
        try RecordBatch(try RecordBatchBuilder.endTransactionMarkerBatch(
            commit ? .commit : .abort, producerId: producer, producerEpoch: epoch, coordinatorEpoch: 3,
            timestamp: 1_234, baseOffset: offset))
    }

    private func aborted(_ producer: Int64, _ first: Int64, _ last: Int64) -> AbortedTransaction {
        AbortedTransaction(producerId: producer, firstOffset: first, lastOffset: last, lastStableOffset: last + 1)
    }

    private func configuration(now: Int64 = Self.now) -> RecordFilter.Configuration {
        RecordFilter.Configuration(nowMs: now, deleteRetentionMs: Self.retention)
    }

    // MARK: TransactionTracker

    @Test func dataIsAbortedOnlyInsideAnAbortedTransactionOfItsProducer() throws {
        // Producer 1 aborts [0, 4] (marker at 4), producer 2 commits in between, producer 1 then
        // commits [5, 6]; producer 3 is not transactional.
        var tracker = TransactionTracker(abortedTransactions: [aborted(1, 0, 4)])
        #expect(tracker.onDataBatch(try data(1, 0...1)) == true)
        #expect(tracker.onDataBatch(try data(2, 2...2)) == false)
        #expect(tracker.onDataBatch(try data(3, 3...3, transactional: false)) == false)
        let abort = try tracker.onControlBatch(try marker(1, at: 4, commit: false))
        #expect(abort == .init(isObsolete: false, abortedTransaction: aborted(1, 0, 4)))
        #expect(tracker.onDataBatch(try data(1, 5...5)) == false)
        #expect(try tracker.onControlBatch(try marker(1, at: 6, commit: true)) == .init(isObsolete: false))
        #expect(try tracker.onControlBatch(try marker(2, at: 7, commit: true)) == .init(isObsolete: false))
    }

    @Test func aTransactionStartedBeforeTheWalkOrEndingAfterItIsStillAborted() throws {
        // The walk starts at 10, inside producer 4's transaction [5, 30] whose marker lies past
        // the walked range (a later segment).
        var tracker = TransactionTracker(abortedTransactions: [aborted(5, 40, 41), aborted(4, 5, 30)])
        #expect(tracker.onDataBatch(try data(4, 10...12)) == true)
        #expect(tracker.onDataBatch(try data(5, 13...13)) == false)
        #expect(tracker.onDataBatch(try data(4, 20...20)) == true)
    }

    @Test func aProducersLaterAbortedTransactionReplacesItsEarlierOne() throws {
        var tracker = TransactionTracker(abortedTransactions: [aborted(1, 10, 12), aborted(1, 0, 2)])
        #expect(tracker.onDataBatch(try data(1, 0...1)) == true)
        // The marker at 2 is not fed (the offset map's walk skips control batches): the
        // offsets still say where the transaction ends.
        #expect(tracker.onDataBatch(try data(1, 5...6)) == false)
        #expect(tracker.onDataBatch(try data(1, 10...11)) == true)
    }

    @Test func aMarkerIsObsoleteWhenNoBatchOfItsTransactionWasSeen() throws {
        var tracker = TransactionTracker(abortedTransactions: [aborted(2, 3, 3)])
        // Producer 1's transaction lost all its batches to earlier cleanings; producer 2 aborted
        // an empty transaction.
        #expect(try tracker.onControlBatch(try marker(1, at: 2, commit: true)) == .init(isObsolete: true))
        #expect(try tracker.onControlBatch(try marker(2, at: 3, commit: false)) == .init(isObsolete: true, abortedTransaction: aborted(2, 3, 3)))
        // An empty header kept for producer state still counts as a batch of the transaction.
        let header = try RecordBatch(try RecordFilter.emptyHeader(of: try data(1, 4...5)))
        #expect(tracker.onDataBatch(header) == false)
        #expect(try tracker.onControlBatch(try marker(1, at: 6, commit: true)) == .init(isObsolete: false))
        // An already emptied control batch may go; another kind of control batch stays.
        let emptied = try CleanerFixtures.batch([], baseOffset: 7) {
            $0.isControlBatch = true
            $0.isTransactional = true
            $0.producerId = 1
        }
        #expect(try tracker.onControlBatch(emptied).isObsolete)
        let other = try CleanerFixtures.batch([Entry(offset: 8, key: "\u{0}\u{0}\u{0}\u{2}", value: "x")]) {
            $0.isControlBatch = true
        }
        #expect(try tracker.onControlBatch(other) == .init(isObsolete: false))
    }

    // MARK: OffsetMap

    @Test func anAbortedBatchAddsNoKeyButCountsAsSeen() throws {
        var map = OffsetMap(slotLimit: 101)
        #expect(try map.insertKeys(of: try data(1, 0...1)) == .complete)
        #expect(try map.insertKeys(of: try data(2, 2...3), isAborted: true) == .complete)
        #expect(map.count == 2 && map.get(key: CleanerFixtures.buffer("k2")) == nil)
        #expect(map.latestOffset == 3)
    }

    // MARK: RecordFilter

    @Test func abortedBatchesKeepNothingButAnActiveProducersLastHeader() throws {
        let batch = try data(7, 20...22)
        let map = OffsetMap(slotLimit: 101)
        let dropped = try RecordFilter.filter(batch, offsetMap: map, configuration: configuration(), transaction: .aborted)
        #expect(dropped.outcome == .discard)
        #expect(dropped.recordsRead == 3 && dropped.abortedRecords == 3 && dropped.recordsRetained == 0)

        var active = configuration()
        active.lastBatchOffsetByActiveProducer = [7: 22]
        let kept = try RecordFilter.filter(batch, offsetMap: map, configuration: active, transaction: .aborted)
        guard case .keepEmptyHeader(let bytes) = kept.outcome else {
            Issue.record("expected an empty header, got \(kept.outcome)")
            return
        }
        let header = try RecordBatch(bytes)
        try header.validate()
        #expect(header.recordCount == 0 && header.baseOffset == 20 && header.lastOffset == 22)
        #expect(header.producerId == 7 && header.isTransactional && header.lastSequence == batch.lastSequence)
    }

    @Test func anObsoleteMarkerGetsAHorizonThenGoesOnceItHasPassed() throws {
        let original = try marker(3, at: 50, commit: true)
        let map = OffsetMap(slotLimit: 11)

        // Still needed: kept as it is.
        let needed = try RecordFilter.filter(original, offsetMap: map, configuration: configuration())
        #expect(needed.outcome == .keepOriginal && needed.markerDeleteHorizonMs == nil)

        // First cleaning that finds it obsolete: same marker, horizon stamped.
        let first = try RecordFilter.filter(original, offsetMap: map, configuration: configuration(), transaction: .obsoleteMarker)
        guard case .rewrite(let bytes) = first.outcome else {
            Issue.record("expected a rewrite, got \(first.outcome)")
            return
        }
        #expect(first.markerDeleteHorizonMs == Self.now + Self.retention)
        let stamped = try RecordBatch(bytes)
        try stamped.validate()
        #expect(stamped.deleteHorizonMs == Self.now + Self.retention)
        #expect(stamped.isControlBatch && stamped.isTransactional)
        #expect(stamped.baseOffset == 50 && stamped.lastOffset == 50)
        #expect(stamped.producerId == 3 && stamped.producerEpoch == 0 && stamped.baseSequence == -1)
        #expect(stamped.maxTimestamp == original.maxTimestamp)
        #expect(try TransactionMarker.read(stamped) == TransactionMarker(isAbort: false, coordinatorEpoch: 3))
        let record = try #require(try stamped.records().first)
        #expect(record.timestamp == 1_234)

        // Before the horizon: kept, horizon reported; from it on: dropped.
        let early = try RecordFilter.filter(
            stamped, offsetMap: map, configuration: configuration(now: Self.now + Self.retention - 1), transaction: .obsoleteMarker)
        #expect(early.outcome == .keepOriginal && early.markerDeleteHorizonMs == Self.now + Self.retention)
        let late = try RecordFilter.filter(
            stamped, offsetMap: map, configuration: configuration(now: Self.now + Self.retention), transaction: .obsoleteMarker)
        #expect(late.outcome == .discard)
    }

    @Test func theMarkerOfAnActiveProducerWithoutDataStays() throws {
        let original = try marker(3, at: 50, commit: false, epoch: 4)
        var active = configuration()
        active.markerEpochByActiveProducer = [3: 4]
        let kept = try RecordFilter.filter(original, offsetMap: OffsetMap(slotLimit: 11), configuration: active, transaction: .obsoleteMarker)
        #expect(kept.outcome == .keepOriginal && kept.markerDeleteHorizonMs == nil)
        // A marker of an older epoch is not the one producer state needs.
        active.markerEpochByActiveProducer = [3: 5]
        let older = try RecordFilter.filter(original, offsetMap: OffsetMap(slotLimit: 11), configuration: active, transaction: .obsoleteMarker)
        guard case .rewrite = older.outcome else {
            Issue.record("expected a rewrite, got \(older.outcome)")
            return
        }
    }

    @Test func producerStateSaysWhichBatchesMustSurvive() {
        var table = ProducerStateTable()
        table.record(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 1, firstOffset: 10, lastOffset: 11, maxTimestamp: 5, isTransactional: true)
        table.endTransaction(producerId: 2, epoch: 3, coordinatorEpoch: 0, offset: 12, isAbort: true, timestamp: 6)
        var configuration = configuration()
        configuration.keepProducerState(of: table)
        #expect(configuration.lastBatchOffsetByActiveProducer == [1: 11])
        #expect(configuration.markerEpochByActiveProducer == [2: 3])
    }
}
