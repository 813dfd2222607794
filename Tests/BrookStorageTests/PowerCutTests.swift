import BrookModel
import BrookRecords
import Foundation
import NIOCore
import Testing

@testable import BrookStorage

/// Power cuts at random points of a seeded workload, on the simulated disk of ``PowerCutDisk``:
/// after each, the log reopens (an unclean start, from recovery point 0 or the one the log
/// reported) with every record that was durable — below the durable offset the log reported,
/// after full flushes and data-only syncs — present and unchanged, every batch intact, and the
/// offsets dense from zero. This is the guarantee durable acks (acks=all answered after the
/// data sync) rely on.
/// The cases run one at a time: each is synchronous disk work, and all 40 at once would keep
/// every thread of the cooperative pool busy, stalling the rest of the suite.
@Suite(.serialized) struct PowerCutTests {
    private static let seeds: [UInt64] = (0..<40).map { 0x5EED_0000 + $0 }

    @Test(arguments: seeds) func durableRecordsSurviveAPowerCutAtAnyPoint(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let directory = try LogTestDirectory("powercut")
        defer { directory.remove() }
        let disk = PowerCutDisk()
        let fault = StorageFaults.install(disk, under: directory.path)
        defer { StorageFaults.remove(fault) }

        let overrides = [
            "segment.bytes": String(Int.random(in: 600...4_000, using: &random)),
            "index.interval.bytes": String(Int.random(in: 0...400, using: &random)),
        ]
        let log = try LogFixtures.open(directory, overrides)
        var values: [[UInt8]] = []  // by offset
        var durable: Int64 = 0
        var epoch: Int32 = 0
        let steps = Int.random(in: 5...60, using: &random)
        for step in 0..<steps {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<7:
                let count = Int.random(in: 1...6, using: &random)
                let batch = LogFixtures.batch(count: count, valueSize: Int.random(in: 1...120, using: &random), tag: UInt8(truncatingIfNeeded: step))
                // Now and then a new leader epoch, whose checkpoint waits for the next flush.
                if Int.random(in: 0..<4, using: &random) == 0 { epoch += 1 }
                let info = try log.append(batch, leaderEpoch: LeaderEpoch(epoch))
                for record in try RecordBatchReader.batches(in: batch)[0].records() {
                    values.append(record.value?.logTestBytes ?? [])
                }
                #expect(info.lastOffset == Int64(values.count) - 1)
            case 7:
                try log.flush()
            case 8:
                try log.syncData()
            default:
                try log.roll()
            }
            // What the log promises is on disk now.
            durable = max(durable, log.durableOffset)
        }
        let recoveryPoint = Bool.random(using: &random) ? log.recoveryPoint : 0

        let image = try LogTestDirectory("powercut-image")
        defer { image.remove() }
        try disk.powerCut(of: directory.path, into: image.path, tornWrites: Bool.random(using: &random), using: &random)
        let recovered = try LogFixtures.open(image, overrides, recoveryPoint: recoveryPoint, clean: false)
        let batches = try LogFixtures.allBatches(recovered)
        var offset: Int64 = 0
        var recoveredValues: [[UInt8]] = []
        var expectedEpochs: [EpochEntry] = []
        for batch in batches {
            if batch.partitionLeaderEpoch > (expectedEpochs.last?.epoch.rawValue ?? -1) {
                expectedEpochs.append(EpochEntry(epoch: LeaderEpoch(batch.partitionLeaderEpoch), startOffset: batch.baseOffset))
            }
            try batch.validate()
            #expect(batch.baseOffset == offset, "seed \(seed): offsets are dense")
            for record in try batch.records() {
                recoveredValues.append(record.value?.logTestBytes ?? [])
            }
            offset = batch.lastOffset + 1
        }
        #expect(recovered.logEndOffset == offset)
        // The epochs are those of the recovered batches: below the recovery point from the
        // checkpoint (written before the recovery point moved), above it relearned by the scan.
        // A checkpointed epoch whose records were all lost may stay if it starts exactly at the
        // log end (as a new leader's epoch that has not written yet does).
        var epochs = recovered.epochEntries
        if epochs.count == expectedEpochs.count + 1, epochs.last?.startOffset == offset { epochs.removeLast() }
        #expect(epochs == expectedEpochs, "seed \(seed)")
        #expect(Int64(recoveredValues.count) >= durable, "seed \(seed): \(durable) durable records, \(recoveredValues.count) recovered")
        // Every recovered record is one that was written, at its offset (durable ones included).
        #expect(Array(recoveredValues.prefix(values.count)) == Array(values.prefix(recoveredValues.count)), "seed \(seed)")
        #expect(recoveredValues.count <= values.count)
    }
}
