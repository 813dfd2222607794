import BrookModel
import Testing

@testable import BrookStorage

@Suite struct CleanerCompactionPlannerTests {
    /// Four segments of 100 offsets; the last is active. Sizes 1000, 2000, 3000, 500 bytes.
    /// Largest timestamps 10_000, 20_000, 30_000, 40_000; first batch timestamps 1_000, 11_000, 21_000, 31_000.
    static let log: [SegmentSummary] = [
        SegmentSummary(baseOffset: 0, nextOffset: 100, sizeBytes: 1_000, largestTimestamp: 10_000, firstBatchTimestamp: 1_000),
        SegmentSummary(baseOffset: 100, nextOffset: 200, sizeBytes: 2_000, largestTimestamp: 20_000, firstBatchTimestamp: 11_000),
        SegmentSummary(baseOffset: 200, nextOffset: 300, sizeBytes: 3_000, largestTimestamp: 30_000, firstBatchTimestamp: 21_000),
        SegmentSummary(baseOffset: 300, nextOffset: 350, sizeBytes: 500, largestTimestamp: 40_000, firstBatchTimestamp: 31_000),
    ]

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var segments: [SegmentSummary] = CleanerCompactionPlannerTests.log
        var logStartOffset: Int64 = 0
        var checkpoint: Int64?
        var lastStableOffset: Int64?
        var now: Int64 = 50_000
        var ratio = 0.5
        var minLag: Int64 = 0
        var maxLag: Int64 = .max
        // Expected
        var firstDirty: Int64
        var firstUncleanable: Int64
        var clean: Int64
        var cleanable: Int64
        var delay: Int64 = 0
        var reset = false
        var trigger: CompactionPlan.Trigger?

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "never cleaned: everything but the active segment is dirty",
             firstDirty: 0, firstUncleanable: 300, clean: 0, cleanable: 6_000, trigger: .dirtyRatio),
        Case(name: "checkpoint at a segment boundary",
             checkpoint: 200, firstDirty: 200, firstUncleanable: 300, clean: 3_000, cleanable: 3_000),
        Case(name: "ratio exactly at the threshold does not clean",
             checkpoint: 200, ratio: 0.5, firstDirty: 200, firstUncleanable: 300, clean: 3_000, cleanable: 3_000, trigger: nil),
        Case(name: "ratio just above the threshold cleans",
             checkpoint: 200, ratio: 0.4999, firstDirty: 200, firstUncleanable: 300, clean: 3_000, cleanable: 3_000, trigger: .dirtyRatio),
        Case(name: "fully cleaned up to the active segment",
             checkpoint: 300, firstDirty: 300, firstUncleanable: 300, clean: 6_000, cleanable: 0),
        Case(name: "checkpoint at the log end offset is valid",
             checkpoint: 350, firstDirty: 350, firstUncleanable: 350, clean: 6_500, cleanable: 0),
        Case(name: "checkpoint past the log end resets to the log start",
             checkpoint: 351, firstDirty: 0, firstUncleanable: 300, clean: 0, cleanable: 6_000, reset: true, trigger: .dirtyRatio),
        Case(name: "checkpoint below the log start resets to the log start",
             logStartOffset: 150, checkpoint: 120,
             firstDirty: 150, firstUncleanable: 300, clean: 1_000 + 2_000, cleanable: 2_000 + 3_000, reset: true, trigger: .dirtyRatio),
        Case(name: "checkpoint inside a segment counts it as clean and dirty",
             checkpoint: 150, firstDirty: 150, firstUncleanable: 300, clean: 3_000, cleanable: 5_000, trigger: .dirtyRatio),
        Case(name: "min.compaction.lag keeps young segments",
             minLag: 25_000,  // horizon 25_000: segment 200 (largest 30_000) is too young
             firstDirty: 0, firstUncleanable: 200, clean: 0, cleanable: 3_000, trigger: .dirtyRatio),
        Case(name: "min.compaction.lag boundary: largest == now - lag is cleanable",
             minLag: 20_000,  // horizon 30_000: segment 200 is exactly at it
             firstDirty: 0, firstUncleanable: 300, clean: 0, cleanable: 6_000, trigger: .dirtyRatio),
        Case(name: "min.compaction.lag past everything leaves nothing cleanable",
             minLag: 45_000, firstDirty: 0, firstUncleanable: 0, clean: 0, cleanable: 0, trigger: nil),
        Case(name: "future timestamps are uncleanable under a lag",
             segments: [
                SegmentSummary(baseOffset: 0, nextOffset: 100, sizeBytes: 1_000, largestTimestamp: 10_000),
                SegmentSummary(baseOffset: 100, nextOffset: 200, sizeBytes: 1_000, largestTimestamp: 90_000),
                SegmentSummary(baseOffset: 200, nextOffset: 300, sizeBytes: 1_000, largestTimestamp: 20_000),
                SegmentSummary(baseOffset: 300, nextOffset: 300, sizeBytes: 0, largestTimestamp: 0),
             ],
             minLag: 1, firstDirty: 0, firstUncleanable: 100, clean: 0, cleanable: 1_000, trigger: .dirtyRatio),
        Case(name: "last stable offset inside a segment rounds down to its base",
             lastStableOffset: 250, firstDirty: 0, firstUncleanable: 200, clean: 0, cleanable: 3_000, trigger: .dirtyRatio),
        Case(name: "last stable offset below the checkpoint leaves nothing",
             checkpoint: 200, lastStableOffset: 150, firstDirty: 200, firstUncleanable: 200, clean: 3_000, cleanable: 0),
        Case(name: "max.compaction.lag forces cleaning below the ratio",
             checkpoint: 200, ratio: 0.9, maxLag: 25_000,  // clean until 25_000; dirty segment 200's first batch at 21_000
             firstDirty: 200, firstUncleanable: 300, clean: 3_000, cleanable: 3_000, delay: 4_000, trigger: .maxCompactionLag),
        Case(name: "max.compaction.lag boundary: first batch == now - lag is not overdue",
             checkpoint: 200, ratio: 0.9, maxLag: 29_000,
             firstDirty: 200, firstUncleanable: 300, clean: 3_000, cleanable: 3_000, delay: 0, trigger: nil),
        Case(name: "max.compaction.lag ignores the active segment",
             checkpoint: 300, ratio: 0.9, maxLag: 0,
             firstDirty: 300, firstUncleanable: 300, clean: 6_000, cleanable: 0, delay: 0, trigger: nil),
        Case(name: "overdue but nothing cleanable (held by min lag) does not clean",
             checkpoint: 200, ratio: 0.9, minLag: 45_000, maxLag: 25_000,
             firstDirty: 200, firstUncleanable: 200, clean: 3_000, cleanable: 0, delay: 4_000, trigger: nil),
        Case(name: "first batch timestamps of zero or below are ignored",
             segments: [
                SegmentSummary(baseOffset: 0, nextOffset: 100, sizeBytes: 1_000, largestTimestamp: 10, firstBatchTimestamp: -1),
                SegmentSummary(baseOffset: 100, nextOffset: 200, sizeBytes: 1_000, largestTimestamp: 10, firstBatchTimestamp: 0),
                SegmentSummary(baseOffset: 200, nextOffset: 200, sizeBytes: 0, largestTimestamp: 10),
             ],
             checkpoint: 0, ratio: 1.0, maxLag: 0,
             firstDirty: 0, firstUncleanable: 200, clean: 0, cleanable: 2_000, delay: 0, trigger: nil),
        Case(name: "single active segment: nothing to clean",
             segments: [SegmentSummary(baseOffset: 0, nextOffset: 10, sizeBytes: 700, largestTimestamp: 1)],
             firstDirty: 0, firstUncleanable: 0, clean: 0, cleanable: 0),
        Case(name: "single empty active segment after truncation",
             segments: [SegmentSummary(baseOffset: 40, nextOffset: 40, sizeBytes: 0, largestTimestamp: 0)],
             logStartOffset: 40, checkpoint: 90,
             firstDirty: 40, firstUncleanable: 40, clean: 0, cleanable: 0, reset: true),
        Case(name: "empty log",
             segments: [], logStartOffset: 7, firstDirty: 7, firstUncleanable: 7, clean: 0, cleanable: 0),
    ]

    @Test(arguments: cases)
    func plans(_ testCase: Case) {
        var configuration = CompactionPlanner.Configuration()
        configuration.minCleanableDirtyRatio = testCase.ratio
        configuration.minCompactionLagMs = testCase.minLag
        configuration.maxCompactionLagMs = testCase.maxLag
        let plan = CompactionPlanner.plan(
            segments: testCase.segments, logStartOffset: testCase.logStartOffset,
            cleanerCheckpoint: testCase.checkpoint, lastStableOffset: testCase.lastStableOffset,
            nowMs: testCase.now, configuration: configuration)

        #expect(plan.firstDirtyOffset == testCase.firstDirty)
        #expect(plan.firstUncleanableOffset == testCase.firstUncleanable)
        #expect(plan.cleanableRange == testCase.firstDirty..<testCase.firstUncleanable)
        #expect(plan.cleanBytes == testCase.clean)
        #expect(plan.cleanableBytes == testCase.cleanable)
        #expect(plan.totalBytes == testCase.clean + testCase.cleanable)
        let total = testCase.clean + testCase.cleanable
        #expect(plan.dirtyRatio == (total > 0 ? Double(testCase.cleanable) / Double(total) : 0))
        #expect(plan.maxCompactionDelayMs == testCase.delay)
        #expect(plan.resetsCheckpoint == testCase.reset)
        #expect(plan.trigger == testCase.trigger)
        #expect(plan.needsCleaning == (testCase.trigger != nil))
    }

    @Test func activeSegmentIsNeverInTheRange() {
        // Whatever the inputs, the range ends at or before the active segment's base offset.
        var rng = SplitMix64(seed: 11)
        for _ in 0..<500 {
            var segments: [SegmentSummary] = []
            var base: Int64 = Int64.random(in: 0...50, using: &rng)
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let length = Int64.random(in: 0...40, using: &rng)
                segments.append(SegmentSummary(
                    baseOffset: base, nextOffset: base + length, sizeBytes: length * 10,
                    largestTimestamp: Int64.random(in: -1...100, using: &rng),
                    firstBatchTimestamp: Int64.random(in: -1...100, using: &rng)))
                base += length
            }
            var configuration = CompactionPlanner.Configuration()
            configuration.minCompactionLagMs = Int64.random(in: 0...50, using: &rng)
            configuration.maxCompactionLagMs = Int64.random(in: 0...200, using: &rng)
            let logStart = segments[0].baseOffset + Int64.random(in: 0...5, using: &rng)
            let plan = CompactionPlanner.plan(
                segments: segments, logStartOffset: logStart,
                cleanerCheckpoint: Bool.random(using: &rng) ? Int64.random(in: -10...base + 10, using: &rng) : nil,
                nowMs: 100, configuration: configuration)
            #expect(plan.firstDirtyOffset <= plan.firstUncleanableOffset)
            #expect(plan.firstUncleanableOffset <= max(plan.firstDirtyOffset, segments.last!.baseOffset))
            #expect(plan.firstDirtyOffset >= logStart)
            #expect(plan.dirtyRatio >= 0 && plan.dirtyRatio <= 1)
            #expect(plan.cleanableBytes >= 0 && plan.maxCompactionDelayMs >= 0)
        }
    }
}
