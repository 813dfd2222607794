import BrookModel
import BrookRecords
import Foundation
import NIOCore
import Testing

@testable import BrookStorage

/// Cleaning transactional logs end to end: aborted data never shadows committed data and is
/// removed, markers go once useless and after `delete.retention.ms`, and READ_COMMITTED
/// consumers see the same thing before and after cleaning and after reopening.
@Suite("LogCleaner with transactions")
struct LogCleanerTransactionTests {
    static let retention: Int64 = 10_000

    static var overrides: [String: String] {
        var overrides = CleaningFixtures.compacted
        overrides["delete.retention.ms"] = String(retention)
        return overrides
    }

    private func open(_ directory: LogTestDirectory, clock: ManualLogClock, clean: Bool = true) throws -> PartitionLog {
        try LogFixtures.open(directory, Self.overrides, clock: clock, clean: clean)
    }

    private func clean(
        _ log: PartitionLog, _ clock: ManualLogClock, checkpoint: Int64? = nil, pendingDeleteHorizonMs: Int64? = nil
    ) throws -> CleaningReport {
        try LogCleaner(configuration: .init(offsetMapMemoryBytes: 1 << 16)).cleanIfNeeded(
            log: log, now: clock.nowMilliseconds(), checkpoint: checkpoint, pendingDeleteHorizonMs: pendingDeleteHorizonMs)
    }

    @Test("a committed value survives a later aborted write of its key, after cleaning and after reopening")
    func abortedWritesDoNotShadowCommittedOnes() throws {
        let directory = try LogTestDirectory("cleaner-txn-shadow")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try open(directory, clock: clock)
        var writer = TransactionWriter(log, clock: clock)
        try writer.write(1, [("k", "v1"), ("a", "a1")])
        try writer.end(1, commit: true)
        let abortedData = try writer.write(2, [("k", "v2"), ("a", "a2")])
        let abortMarker = try writer.end(2, commit: false)
        try writer.write(1, [("b", "b1")])
        try writer.end(1, commit: true)
        try writer.fill(30)

        let committed = TransactionViews.latest(try TransactionViews.committed(log))
        #expect(committed["k"] == "v1" && committed["a"] == "a1" && committed["b"] == "b1")
        let index = log.allAbortedTransactions
        #expect(index == [AbortedTransaction(producerId: 2, firstOffset: abortedData, lastOffset: abortMarker, lastStableOffset: abortMarker + 1)])
        let stable = log.lastStableOffset(highWatermark: log.logEndOffset)

        let report = try clean(log, clock)
        #expect(report.cleaned)
        #expect(TransactionViews.latest(try TransactionViews.committed(log)) == committed)
        let uncommitted = try TransactionViews.uncommitted(log)
        #expect(uncommitted.filter { $0.key == "k" }.map(\.value) == ["v1"])
        #expect(uncommitted.filter { $0.key == "a" }.map(\.value) == ["a1"])
        // Producer 2 is still active: its last batch stays as an empty header, so its
        // transaction's marker and index entry stay too.
        let header = try #require(try LogFixtures.allBatches(log).first { $0.baseOffset == abortedData })
        #expect(header.recordCount == 0 && header.producerId == 2 && header.lastOffset == abortedData + 1)
        #expect(try TransactionViews.markers(log).contains { $0.offset == abortMarker && $0.deleteHorizonMs == nil })
        #expect(log.allAbortedTransactions == index)
        #expect(log.abortedTransactions(from: 0, to: stable) == index)
        #expect(log.lastStableOffset(highWatermark: log.logEndOffset) == stable)

        let records = try CleaningFixtures.records(log)
        try log.close()
        for cleanStop in [true, false] {
            let reopened = try open(directory, clock: clock, clean: cleanStop)
            #expect(try CleaningFixtures.records(reopened) == records)
            #expect(TransactionViews.latest(try TransactionViews.committed(reopened)) == committed)
            #expect(reopened.allAbortedTransactions == index)
            #expect(reopened.lastStableOffset(highWatermark: reopened.logEndOffset) == stable)
            try reopened.close()
        }
    }

    @Test("aborted data is removed, also when its marker is in a later, uncleaned segment")
    func abortedDataIsRemoved() throws {
        let directory = try LogTestDirectory("cleaner-txn-aborted")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try open(directory, clock: clock)
        var writer = TransactionWriter(log, clock: clock)
        // Producer 1 aborts a transaction whose marker lands in a cleaned segment; producer 3's
        // spans several segments and ends in the active one.
        try writer.write(1, [("x", "aborted-1")])
        try writer.write(3, [("y", "aborted-3a")])
        try writer.fill(10, tag: "first")
        let innerMarker = try writer.end(1, commit: false)
        try writer.fill(10, tag: "second")
        try writer.write(3, [("x", "aborted-3b"), ("z", "aborted-3c")])
        try writer.fill(10, tag: "third")
        let lateMarker = try writer.end(3, commit: false)
        #expect(try CleaningFixtures.activeBase(log) <= lateMarker)
        // Without active producers nothing of the aborted batches is needed any more.
        #expect(try log.expireProducers(before: .max) == 2)
        let committed = TransactionViews.latest(try TransactionViews.committed(log))
        let index = log.allAbortedTransactions
        #expect(index.map(\.lastOffset) == [innerMarker, lateMarker])

        let report = try clean(log, clock)
        #expect(report.cleaned)
        #expect(!(try TransactionViews.uncommitted(log)).contains { $0.value?.hasPrefix("aborted") ?? false })
        #expect(TransactionViews.latest(try TransactionViews.committed(log)) == committed)
        // The markers saw their transactions' batches in this cleaning: they stay, with their entries.
        #expect(try TransactionViews.markers(log).map(\.offset) == [innerMarker, lateMarker])
        #expect(log.allAbortedTransactions == index)
    }

    @Test("a marker whose transaction is all gone gets its horizon at one cleaning and goes at a cleaning after delete.retention.ms")
    func obsoleteMarkersGoAfterTheirHorizon() throws {
        let directory = try LogTestDirectory("cleaner-txn-markers")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try open(directory, clock: clock)
        var writer = TransactionWriter(log, clock: clock)
        try writer.write(1, [("k", "v1")])
        let superseded = try writer.end(1, commit: true)
        try writer.plain([("k", "v2")])
        let emptyAbort = try writer.end(2, commit: false)
        try writer.write(3, [("kept", "yes")])
        let needed = try writer.end(3, commit: true)
        try writer.write(1, [("later", "committed")])
        try writer.end(1, commit: true)
        try writer.fill(30)
        try log.expireProducers(before: .max)
        let committed = TransactionViews.latest(try TransactionViews.committed(log))
        #expect(committed["k"] == "v2" && committed["later"] == "committed")
        let emptyEntry = AbortedTransaction(producerId: 2, firstOffset: emptyAbort, lastOffset: emptyAbort, lastStableOffset: emptyAbort + 1)
        #expect(log.allAbortedTransactions == [emptyEntry])
        let start = clock.nowMilliseconds()
        func marker(_ offset: Int64) throws -> TransactionViews.Marker? {
            try TransactionViews.markers(log).first { $0.offset == offset }
        }

        // 1. k=v1 goes, but its COMMIT saw it in this cleaning and stays as it is; the empty
        //    transaction's ABORT is obsolete at once and gets its horizon.
        let first = try clean(log, clock)
        #expect(first.cleaned)
        #expect(!(try TransactionViews.uncommitted(log)).contains { $0.value == "v1" })
        #expect(try marker(superseded)?.deleteHorizonMs == .some(nil))
        #expect(try marker(emptyAbort)?.deleteHorizonMs == start + Self.retention)
        #expect(first.nextDeleteHorizonMs == start + Self.retention)
        #expect(log.allAbortedTransactions == [emptyEntry])

        // 2. A second cleaning finds the COMMIT obsolete: horizon; the ABORT keeps its own.
        clock.advance(by: 1)
        let second = try clean(log, clock)
        #expect(second.cleaned)
        #expect(try marker(superseded)?.deleteHorizonMs == start + 1 + Self.retention)
        #expect(try marker(emptyAbort)?.deleteHorizonMs == start + Self.retention)
        #expect(second.nextDeleteHorizonMs == start + Self.retention)

        // 3. Just before the ABORT's horizon nothing is due; at it, the log is cleaned though not
        //    dirty, and the ABORT goes with its index entry.
        clock.advance(by: Self.retention - 2)
        let early = try clean(log, clock, checkpoint: second.newCheckpoint, pendingDeleteHorizonMs: second.nextDeleteHorizonMs)
        #expect(!early.cleaned)
        clock.advance(by: 1)
        let third = try clean(log, clock, checkpoint: second.newCheckpoint, pendingDeleteHorizonMs: second.nextDeleteHorizonMs)
        #expect(third.cleaned)
        #expect(try marker(emptyAbort) == nil)
        #expect(log.allAbortedTransactions.isEmpty)
        #expect(log.abortedTransactions(from: 0, to: log.logEndOffset).isEmpty)
        #expect(try marker(superseded) != nil)
        #expect(third.nextDeleteHorizonMs == start + 1 + Self.retention)

        // 4. Then the COMMIT goes; the marker whose data is still there never does.
        clock.advance(by: 1)
        let fourth = try clean(log, clock, checkpoint: third.newCheckpoint, pendingDeleteHorizonMs: third.nextDeleteHorizonMs)
        #expect(fourth.cleaned)
        #expect(try marker(superseded) == nil)
        #expect(fourth.nextDeleteHorizonMs == nil)
        clock.advance(by: 10 * Self.retention)
        #expect(try clean(log, clock).cleaned)
        #expect(try marker(needed)?.deleteHorizonMs == .some(nil))
        #expect(TransactionViews.latest(try TransactionViews.committed(log)) == committed)

        let markers = try TransactionViews.markers(log)
        try log.close()
        for cleanStop in [true, false] {
            let reopened = try open(directory, clock: clock, clean: cleanStop)
            #expect(try TransactionViews.markers(reopened) == markers)
            #expect(TransactionViews.latest(try TransactionViews.committed(reopened)) == committed)
            #expect(reopened.allAbortedTransactions.isEmpty)
            #expect(reopened.firstUnstableOffset == nil)
            try reopened.close()
        }
    }

    @Test("the marker of an active producer known only from markers stays until the producer expires")
    func markersOfActiveProducersWithoutDataStay() throws {
        let directory = try LogTestDirectory("cleaner-txn-fencing")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try open(directory, clock: clock)
        let writer = TransactionWriter(log, clock: clock)
        let abort = try writer.end(4, commit: false)
        try writer.fill(30)
        #expect(log.producerState.entries[4]?.batches.isEmpty == true)
        #expect(try clean(log, clock).cleaned)
        clock.advance(by: 2 * Self.retention)
        #expect(try clean(log, clock).cleaned)
        #expect(try TransactionViews.markers(log) == [.init(offset: abort, producerId: 4, isAbort: true, deleteHorizonMs: nil)])

        try log.expireProducers(before: .max)
        #expect(try clean(log, clock).cleaned)
        #expect(try TransactionViews.markers(log).first?.deleteHorizonMs == clock.nowMilliseconds() + Self.retention)
        clock.advance(by: Self.retention)
        #expect(try clean(log, clock).cleaned)
        #expect(try TransactionViews.markers(log).isEmpty)
        #expect(log.allAbortedTransactions.isEmpty)
    }

    @Test("the cleaner stops at an open transaction, whose later abort then hides nothing committed")
    func cleaningStopsAtTheFirstUnstableOffset() throws {
        let directory = try LogTestDirectory("cleaner-txn-open")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try open(directory, clock: clock)
        var writer = TransactionWriter(log, clock: clock)
        try writer.write(1, [("k", "v1")])
        try writer.end(1, commit: true)
        try writer.fill(10, tag: "before")
        let openOffset = try writer.write(2, [("k", "v2")])
        try writer.fill(30, tag: "after")
        #expect(log.firstUnstableOffset == openOffset)
        let firstKept = try #require(try log.segmentSummaries().last { $0.baseOffset <= openOffset }).baseOffset
        let untouched = try log.segmentSummaries().filter { $0.baseOffset >= firstKept }.map { directory.bytes(directory.segmentFile($0.baseOffset)) }

        let report = try clean(log, clock)
        #expect(report.cleaned)
        #expect(report.newCheckpoint == firstKept)
        #expect(try log.segmentSummaries().filter { $0.baseOffset >= firstKept }.map { directory.bytes(directory.segmentFile($0.baseOffset)) } == untouched)

        try writer.end(2, commit: false)
        try writer.fill(10, tag: "end")
        #expect(try clean(log, clock, checkpoint: report.newCheckpoint).cleaned)
        #expect(TransactionViews.latest(try TransactionViews.committed(log))["k"] == "v1")
        #expect(!(try TransactionViews.uncommitted(log)).contains { $0.value == "v2" })
    }

    // MARK: Against a model

    /// Random interleavings of plain writes and of transactions of three producers, with
    /// cleanings, producer expiry and time passing: after every cleaning READ_COMMITTED readers
    /// see the latest committed value of every key, no aborted record is left in what was
    /// cleaned, every kept transactional batch still has its marker, and the transaction index
    /// holds exactly the entries of the ABORT markers left. Reopening changes nothing.
    @Test(.serialized, arguments: 0..<16)
    func matchesTheModel(seed: Int) throws {
        let directory = try LogTestDirectory("cleaner-txn-model")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try open(directory, clock: clock)
        var writer = TransactionWriter(log, clock: clock)
        var random = SplitMix64(seed: UInt64(seed))
        var model = TransactionModel()
        var checkpoint: Int64?
        var horizon: Int64?
        var counter = 0

        for _ in 0..<220 {
            counter += 1
            let producer = Int64.random(in: 1...3, using: &random)
            switch Int.random(in: 0..<20, using: &random) {
            case 0..<8:
                let key = "k\(Int.random(in: 0..<6, using: &random))"
                let offset = try writer.plain([(key, "p\(counter)")])
                model.write(at: offset, key: key, value: "p\(counter)", producer: nil)
            case 8..<14:
                let keys = (0..<Int.random(in: 1...2, using: &random)).map { _ in "k\(Int.random(in: 0..<6, using: &random))" }
                let first = try writer.write(producer, keys.enumerated().map { ($0.element, "t\(counter)-\($0.offset)") })
                for (index, key) in keys.enumerated() {
                    model.write(at: first + Int64(index), key: key, value: "t\(counter)-\(index)", producer: producer)
                }
            case 14..<17:
                guard model.isOpen(producer) else { continue }
                let commit = Bool.random(using: &random)
                model.end(producer, commit: commit, at: try writer.end(producer, commit: commit))
            case 17:
                try log.expireProducers(before: .max)
            default:
                clock.advance(by: Int64.random(in: 0...(Self.retention / 2), using: &random))
                let report = try clean(log, clock, checkpoint: Bool.random(using: &random) ? checkpoint : nil, pendingDeleteHorizonMs: horizon)
                if report.cleaned {
                    checkpoint = report.newCheckpoint
                    horizon = report.nextDeleteHorizonMs
                    try model.check(log, cleanedBelow: report.plan?.firstUncleanableOffset ?? 0)
                }
            }
        }
        try model.check(log, cleanedBelow: 0)
        let records = try CleaningFixtures.records(log)
        try log.close()
        for cleanStop in [true, false] {
            let reopened = try open(directory, clock: clock, clean: cleanStop)
            #expect(try CleaningFixtures.records(reopened) == records)
            try model.check(reopened, cleanedBelow: 0)
            try reopened.close()
        }
    }
}

/// What the model test wrote: every record with its transaction, and how each transaction ended.
private struct TransactionModel {
    struct Written {
        var offset: Int64
        var key: String
        var value: String
        /// Index in ``transactions``; nil for a plain write.
        var transaction: Int?
    }

    struct Transaction {
        var producer: Int64
        /// nil while open.
        var committed: Bool?
        var marker: Int64?
    }

    var written: [Written] = []
    var transactions: [Transaction] = []
    var open: [Int64: Int] = [:]

    func isOpen(_ producer: Int64) -> Bool { open[producer] != nil }

    mutating func write(at offset: Int64, key: String, value: String, producer: Int64?) {
        var transaction: Int?
        if let producer {
            if open[producer] == nil {
                open[producer] = transactions.count
                transactions.append(Transaction(producer: producer))
            }
            transaction = open[producer]
        }
        written.append(Written(offset: offset, key: key, value: value, transaction: transaction))
    }

    mutating func end(_ producer: Int64, commit: Bool, at offset: Int64) {
        guard let index = open.removeValue(forKey: producer) else { return }
        transactions[index].committed = commit
        transactions[index].marker = offset
    }

    func check(_ log: PartitionLog, cleanedBelow cleaned: Int64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let stable = log.lastStableOffset(highWatermark: log.logEndOffset)
        #expect(stable == (open.values.map { index in written.first { $0.transaction == index }!.offset }.min() ?? log.logEndOffset), sourceLocation: sourceLocation)

        // READ_COMMITTED: the latest committed value of every key below the last stable offset.
        var expected: [String: String?] = [:]
        for record in written where record.offset < stable {
            if let transaction = record.transaction, transactions[transaction].committed != true { continue }
            expected[record.key] = .some(record.value)
        }
        #expect(TransactionViews.latest(try TransactionViews.committed(log)) == expected, sourceLocation: sourceLocation)

        // Nothing aborted is left where the cleaner went.
        let byOffset = Dictionary(uniqueKeysWithValues: written.map { ($0.offset, $0) })
        for record in try TransactionViews.uncommitted(log) where record.offset < cleaned {
            if let transaction = byOffset[record.offset]?.transaction {
                #expect(transactions[transaction].committed == true, "aborted record \(record) survived", sourceLocation: sourceLocation)
            }
        }

        // Every transactional batch left (empty headers too) still has its transaction's marker.
        let batches = try LogFixtures.allBatches(log)
        let markers = Set(batches.filter(\.isControlBatch).map(\.baseOffset))
        for batch in batches where !batch.isControlBatch && batch.isTransactional {
            guard let transaction = byOffset[batch.baseOffset]?.transaction, let marker = transactions[transaction].marker else { continue }
            #expect(markers.contains(marker), "batch at \(batch.baseOffset) lost its marker \(marker)", sourceLocation: sourceLocation)
        }

        // The index holds an entry exactly for each ABORT marker left.
        let aborts = try TransactionViews.markers(log).filter(\.isAbort).map(\.offset)
        #expect(log.allAbortedTransactions.map(\.lastOffset) == aborts, sourceLocation: sourceLocation)
    }
}
