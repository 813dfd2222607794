import BrookModel
import Testing

@testable import BrookStorage

@Suite struct RetentionPolicyTests {
    static let now: Int64 = 1_000_000
    static let day: Int64 = 86_400_000

    /// Segments of 100 offsets each from offset 0, with the given sizes and largest timestamps;
    /// the last one is active.
    static func log(_ specs: [(size: Int64, largest: Int64)]) -> [SegmentSummary] {
        specs.enumerated().map { index, spec in
            let base = Int64(index) * 100
            return SegmentSummary(
                baseOffset: base, nextOffset: spec.size == 0 ? base : base + 100,
                sizeBytes: spec.size, largestTimestamp: spec.largest)
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var segments: [SegmentSummary]
        var policy = RetentionPolicy(retentionMs: 1_000, retentionBytes: -1)
        var logStartOffset: Int64 = 0
        var highWatermark: Int64?  // nil: the log end offset
        var now: Int64 = RetentionPolicyTests.now
        // Expected
        var deleted: [Int64]
        var reasons: [RetentionDecision.Reason]
        var rolls = false
        var newLogStartOffset: Int64

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "empty list", segments: [], deleted: [], reasons: [], newLogStartOffset: 0),
        Case(name: "nothing expired",
             segments: log([(100, now), (100, now), (50, now)]),
             deleted: [], reasons: [], newLogStartOffset: 0),
        Case(name: "expired segments go oldest first; the recent active stays",
             segments: log([(100, now - 5_000), (100, now - 2_000), (50, now)]),
             deleted: [0, 100], reasons: [.retentionTime, .retentionTime], newLogStartOffset: 200),
        Case(name: "exactly retention.ms old is kept (strictly older goes)",
             segments: log([(100, now - 1_001), (100, now - 1_000), (50, now)]),
             deleted: [0], reasons: [.retentionTime], newLogStartOffset: 100),
        Case(name: "a future timestamp protects itself and everything after it",
             segments: log([(100, now - 5_000), (100, now + 10_000), (100, now - 5_000), (50, now - 5_000)]),
             deleted: [0], reasons: [.retentionTime], newLogStartOffset: 100),
        Case(name: "fully expired log: the active segment goes after a roll",
             segments: log([(100, now - 5_000), (50, now - 5_000)]),
             deleted: [0, 100], reasons: [.retentionTime, .retentionTime], rolls: true, newLogStartOffset: 200),
        Case(name: "single non-empty active segment, expired: roll then delete",
             segments: log([(50, now - 5_000)]),
             deleted: [0], reasons: [.retentionTime], rolls: true, newLogStartOffset: 100),
        Case(name: "single empty active segment is never deleted",
             segments: log([(0, now - 5_000)]),
             deleted: [], reasons: [], newLogStartOffset: 0),
        Case(name: "empty active segment behind expired ones stays, no roll",
             segments: log([(100, now - 5_000), (0, now - 5_000)]),
             deleted: [0], reasons: [.retentionTime], newLogStartOffset: 100),
        Case(name: "retention.ms -1 keeps everything",
             segments: log([(100, 0), (50, 0)]),
             policy: RetentionPolicy(retentionMs: -1, retentionBytes: -1),
             deleted: [], reasons: [], newLogStartOffset: 0),
        Case(name: "retention.ms 0 deletes everything older than now",
             segments: log([(100, now - 1), (50, now)]),
             policy: RetentionPolicy(retentionMs: 0),
             deleted: [0], reasons: [.retentionTime], newLogStartOffset: 100),
        Case(name: "size: delete while the excess covers the segment",
             segments: log([(100, now), (100, now), (100, now), (50, now)]),
             policy: RetentionPolicy(retentionMs: -1, retentionBytes: 200),  // total 350, excess 150
             deleted: [0], reasons: [.retentionBytes], newLogStartOffset: 100),
        Case(name: "size: excess exactly one segment",
             segments: log([(100, now), (100, now), (50, now)]),
             policy: RetentionPolicy(retentionMs: -1, retentionBytes: 150),  // total 250, excess 100
             deleted: [0], reasons: [.retentionBytes], newLogStartOffset: 100),
        Case(name: "size: log exactly at retention.bytes keeps everything",
             segments: log([(100, now), (100, now), (50, now)]),
             policy: RetentionPolicy(retentionMs: -1, retentionBytes: 250),
             deleted: [], reasons: [], newLogStartOffset: 0),
        Case(name: "size: log under retention.bytes keeps everything",
             segments: log([(100, now), (50, now)]),
             policy: RetentionPolicy(retentionMs: -1, retentionBytes: 1_000),
             deleted: [], reasons: [], newLogStartOffset: 0),
        Case(name: "size: retention.bytes 0 deletes the whole log with a roll",
             segments: log([(100, now), (50, now)]),
             policy: RetentionPolicy(retentionMs: -1, retentionBytes: 0),
             deleted: [0, 100], reasons: [.retentionBytes, .retentionBytes], rolls: true, newLogStartOffset: 200),
        Case(name: "log start offset: segments wholly below it go",
             segments: log([(100, now), (100, now), (100, now), (50, now)]),
             policy: RetentionPolicy(retentionMs: -1), logStartOffset: 250,
             deleted: [0, 100], reasons: [.logStartOffset, .logStartOffset], newLogStartOffset: 250),
        Case(name: "log start offset exactly at a base offset",
             segments: log([(100, now), (100, now), (50, now)]),
             policy: RetentionPolicy(retentionMs: -1), logStartOffset: 100,
             deleted: [0], reasons: [.logStartOffset], newLogStartOffset: 100),
        Case(name: "log start offset never deletes the active segment",
             segments: log([(100, now), (50, now)]),
             policy: RetentionPolicy(retentionMs: -1), logStartOffset: 150,
             deleted: [0], reasons: [.logStartOffset], newLogStartOffset: 150),
        Case(name: "compact-only policy: only the log start offset rule",
             segments: log([(100, 0), (100, 0), (50, 0)]),
             policy: RetentionPolicy(retentionMs: 1, retentionBytes: 0, deletesByPolicy: false), logStartOffset: 100,
             deleted: [0], reasons: [.logStartOffset], newLogStartOffset: 100),
        Case(name: "the high watermark bounds deletion",
             segments: log([(100, 0), (100, 0), (100, 0), (50, 0)]),
             highWatermark: 150,
             deleted: [0], reasons: [.retentionTime], newLogStartOffset: 100),
        Case(name: "high watermark at the log end allows a roll",
             segments: log([(100, 0), (50, 0)]),
             highWatermark: 200,
             deleted: [0, 100], reasons: [.retentionTime, .retentionTime], rolls: true, newLogStartOffset: 200),
        Case(name: "high watermark below the log end keeps the active segment",
             segments: log([(100, 0), (50, 0)]),
             highWatermark: 199,
             deleted: [0], reasons: [.retentionTime], newLogStartOffset: 100),
        Case(name: "passes run log start, then size, then time",
             // Size deletes the first two (total 350 - 120 = excess 230 covers 100 + 100), although
             // the second is recent; time then continues with the expired third.
             segments: log([(100, 0), (100, now), (100, 0), (50, now)]),
             policy: RetentionPolicy(retentionMs: 1_000, retentionBytes: 120),
             deleted: [0, 100, 200], reasons: [.retentionBytes, .retentionBytes, .retentionTime], newLogStartOffset: 300),
        Case(name: "log start pass first, then time",
             segments: log([(100, now), (100, 0), (100, now), (50, now)]),
             policy: RetentionPolicy(retentionMs: 1_000), logStartOffset: 100,
             deleted: [0, 100], reasons: [.logStartOffset, .retentionTime], newLogStartOffset: 200),
        Case(name: "the log start offset never moves backwards",
             segments: log([(100, 0), (100, now), (50, now)]),
             logStartOffset: 150,
             deleted: [0], reasons: [.logStartOffset], newLogStartOffset: 150),
        Case(name: "absurdly old timestamps do not overflow",
             segments: log([(100, .min), (50, .max)]),
             now: .max,
             deleted: [0], reasons: [.retentionTime], newLogStartOffset: 100),
        Case(name: "absurdly new timestamps do not overflow",
             segments: log([(100, .max), (50, now)]),
             now: .min,
             deleted: [], reasons: [], newLogStartOffset: 0),
    ]

    @Test(arguments: cases)
    func decides(_ testCase: Case) {
        let highWatermark = testCase.highWatermark ?? testCase.segments.last?.nextOffset ?? 0
        let decision = testCase.policy.evaluate(
            segments: testCase.segments, logStartOffset: testCase.logStartOffset,
            highWatermark: highWatermark, nowMs: testCase.now)
        #expect(decision.segmentsToDelete.map(\.baseOffset) == testCase.deleted)
        #expect(decision.deletions.map(\.reason) == testCase.reasons)
        #expect(decision.rollsActiveSegment == testCase.rolls)
        #expect(decision.newLogStartOffset == testCase.newLogStartOffset)
    }

    @Test func defaultsAreKafkas() {
        let policy = RetentionPolicy()
        #expect(policy.retentionMs == 7 * Self.day)
        #expect(policy.retentionBytes == -1)
        #expect(policy.deletesByPolicy)
    }

    /// Random logs: deletions are always a prefix, never an empty active segment, never past the
    /// high watermark, and a roll is asked for exactly when the active segment is deleted.
    @Test func invariantsHoldOnRandomLogs() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<1_000 {
            var segments: [SegmentSummary] = []
            var base = Int64.random(in: 0...100, using: &rng)
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let size = Int64.random(in: 0...3, using: &rng) == 0 ? 0 : Int64.random(in: 1...200, using: &rng)
                let length = size == 0 ? 0 : Int64.random(in: 1...50, using: &rng)
                segments.append(SegmentSummary(
                    baseOffset: base, nextOffset: base + length, sizeBytes: size,
                    largestTimestamp: Int64.random(in: 0...2_000, using: &rng)))
                base += length
            }
            let policy = RetentionPolicy(
                retentionMs: Int64.random(in: -1...1_500, using: &rng),
                retentionBytes: Int64.random(in: -1...600, using: &rng),
                deletesByPolicy: Bool.random(using: &rng))
            let logStart = Int64.random(in: segments[0].baseOffset...base + 1, using: &rng)
            let highWatermark = Int64.random(in: segments[0].baseOffset...base, using: &rng)
            let decision = policy.evaluate(segments: segments, logStartOffset: logStart, highWatermark: highWatermark, nowMs: 1_000)

            let deleted = decision.segmentsToDelete
            #expect(Array(segments.prefix(deleted.count)) == deleted)
            #expect(decision.rollsActiveSegment == (!deleted.isEmpty && deleted.count == segments.count))
            #expect(!(decision.rollsActiveSegment && segments.last!.sizeBytes == 0))
            for index in deleted.indices {
                let end = index + 1 < segments.count ? segments[index + 1].baseOffset : segments.last!.nextOffset
                #expect(end <= highWatermark)
                if !policy.deletesByPolicy { #expect(decision.deletions[index].reason == .logStartOffset) }
            }
            #expect(decision.newLogStartOffset >= logStart)
            if let firstKept = segments.dropFirst(deleted.count).first, !deleted.isEmpty {
                #expect(decision.newLogStartOffset == max(logStart, firstKept.baseOffset))
            }
        }
    }
}
