import BrookModel
import BrookRecords
import NIOCore
import PropertyBased
import Testing

@testable import BrookStorage

@Suite struct CleanerRecordFilterTests {
    typealias Entry = CleanerFixtures.Entry

    static let now: Int64 = 1_000_000
    static let retention: Int64 = 86_400_000

    private func map(of batches: [RecordBatch]) throws -> OffsetMap {
        var map = OffsetMap(slotLimit: 1_009)
        for batch in batches {
            #expect(try map.insertKeys(of: batch) == .complete)
        }
        return map
    }

    private func configuration(now: Int64 = Self.now, producers: [Int64: Int64] = [:]) -> RecordFilter.Configuration {
        RecordFilter.Configuration(nowMs: now, deleteRetentionMs: Self.retention, lastBatchOffsetByActiveProducer: producers)
    }

    /// The batch that `outcome` writes in place of `original`, or nil for `.discard`.
    private func written(_ outcome: RecordFilter.Outcome, original: RecordBatch) throws -> RecordBatch? {
        switch outcome {
        case .keepOriginal: return original
        case .rewrite(let bytes), .keepEmptyHeader(let bytes):
            let batch = try RecordBatch(bytes)
            try batch.validate()
            return batch
        case .discard: return nil
        }
    }

    private func summary(_ batch: RecordBatch?) throws -> [(Int64, String?, String?)] {
        try (batch?.records() ?? []).map { ($0.offset, CleanerFixtures.string($0.key), CleanerFixtures.string($0.value)) }
    }

    @Test func keepsTheLatestValuePerKeyAtItsOriginalOffset() throws {
        let batch = try CleanerFixtures.batch([
            Entry(offset: 100, key: "a", value: "a1"),
            Entry(offset: 101, key: "b", value: "b1"),
            Entry(offset: 102, key: "a", value: "a2"),
            Entry(offset: 103, key: "c", value: "c1"),
            Entry(offset: 104, key: "b", value: "b2"),
            Entry(offset: 105, key: "d", value: "d1"),
        ])
        let result = try RecordFilter.filter(batch, offsetMap: try map(of: [batch]), configuration: configuration())
        guard case .rewrite = result.outcome else {
            Issue.record("expected a rewrite, got \(result.outcome)")
            return
        }
        let rewritten = try written(result.outcome, original: batch)!
        let kept = try summary(rewritten)
        #expect(kept.map(\.0) == [102, 103, 104, 105])
        #expect(kept.map(\.2) == ["a2", "c1", "b2", "d1"])
        #expect(rewritten.baseOffset == 100)
        #expect(rewritten.lastOffset == 105)
        #expect(result.recordsRead == 6)
        #expect(result.recordsRetained == 4)
        #expect(result.supersededRecords == 2)
        #expect(result.keylessRecords == 0 && result.expiredTombstones == 0)
    }

    @Test func laterBatchesSupersedeEarlierOnes() throws {
        let first = try CleanerFixtures.batch([Entry(offset: 0, key: "a", value: "1"), Entry(offset: 1, key: "b", value: "1")])
        let second = try CleanerFixtures.batch([Entry(offset: 2, key: "a", value: "2")])
        let third = try CleanerFixtures.batch([Entry(offset: 3, key: "b", value: "2"), Entry(offset: 4, key: "a", value: "3")])
        let map = try map(of: [first, second, third])

        #expect(try RecordFilter.filter(first, offsetMap: map, configuration: configuration()).outcome == .discard)
        #expect(try RecordFilter.filter(second, offsetMap: map, configuration: configuration()).outcome == .discard)
        #expect(try RecordFilter.filter(third, offsetMap: map, configuration: configuration()).outcome == .keepOriginal)
    }

    @Test func lastOffsetIsPreservedWhenTheLastRecordGoes() throws {
        let batch = try CleanerFixtures.batch([
            Entry(offset: 10, key: "a", value: "keep"),
            Entry(offset: 11, key: "b", value: "old"),
        ]) {
            $0.producerId = 77
            $0.producerEpoch = 3
            $0.baseSequence = 500
            $0.partitionLeaderEpoch = 9
        }
        let newer = try CleanerFixtures.batch([Entry(offset: 12, key: "b", value: "new")])
        let result = try RecordFilter.filter(batch, offsetMap: try map(of: [batch, newer]), configuration: configuration())
        let rewritten = try written(result.outcome, original: batch)!
        #expect(try summary(rewritten).map(\.0) == [10])
        #expect(rewritten.baseOffset == 10)
        #expect(rewritten.lastOffsetDelta == 1)
        #expect(rewritten.lastOffset == 11)
        #expect(rewritten.recordCount == 1)
        #expect(rewritten.producerId == 77)
        #expect(rewritten.producerEpoch == 3)
        #expect(rewritten.baseSequence == 500)
        #expect(rewritten.lastSequence == batch.lastSequence)
        #expect(rewritten.partitionLeaderEpoch == 9)
    }

    @Test(arguments: CompressionCodec.allCases)
    func compressionAndHeaderFieldsArePreserved(codec: CompressionCodec) throws {
        let batch = try CleanerFixtures.batch([
            Entry(offset: 1_000, key: "k", value: String(repeating: "old ", count: 50), timestamp: 5_000),
            Entry(offset: 1_001, key: "x", value: String(repeating: "x", count: 100), timestamp: 5_009),
            Entry(offset: 1_003, key: "k", value: String(repeating: "new ", count: 50), timestamp: 5_007),
        ]) {
            $0.compression = codec
            $0.producerId = 4
            $0.producerEpoch = 1
            $0.baseSequence = 0
            $0.isTransactional = true
        }
        let result = try RecordFilter.filter(batch, offsetMap: try map(of: [batch]), configuration: configuration())
        let rewritten = try written(result.outcome, original: batch)!
        #expect(rewritten.compression == codec)
        #expect(rewritten.isTransactional)
        #expect(rewritten.producerId == 4 && rewritten.producerEpoch == 1 && rewritten.baseSequence == 0)
        #expect(rewritten.timestampType == .createTime)
        #expect(rewritten.deleteHorizonMs == nil)
        #expect(rewritten.lastOffset == 1_003)
        // maxTimestamp is recomputed from the kept records; timestamps survive.
        #expect(rewritten.maxTimestamp == 5_009)
        let records = try rewritten.records()
        #expect(records.map(\.offset) == [1_001, 1_003])
        #expect(records.map(\.timestamp) == [5_009, 5_007])
        #expect(CleanerFixtures.string(records[1].value) == String(repeating: "new ", count: 50))
    }

    @Test func logAppendTimeIsKept() throws {
        let batch = try CleanerFixtures.batch([
            Entry(offset: 0, key: "a", value: "1"),
            Entry(offset: 1, key: "a", value: "2"),
        ]) {
            $0.timestampType = .logAppendTime
            $0.maxTimestamp = 777_777
        }
        let rewritten = try written(
            try RecordFilter.filter(batch, offsetMap: try map(of: [batch]), configuration: configuration()).outcome,
            original: batch)!
        #expect(rewritten.timestampType == .logAppendTime)
        #expect(rewritten.maxTimestamp == 777_777)
        #expect(try rewritten.records().map(\.timestamp) == [777_777])
    }

    @Test func allLatestIsCopiedUnchanged() throws {
        let batch = try CleanerFixtures.batch([
            Entry(offset: 0, key: "a", value: "1"),
            Entry(offset: 1, key: "b", value: "1"),
        ]) { $0.compression = .zstd }
        let result = try RecordFilter.filter(batch, offsetMap: try map(of: [batch]), configuration: configuration())
        #expect(result.outcome == .keepOriginal)
        #expect(result.recordsRetained == 2)
    }

    @Test func keylessRecordsAreDropped() throws {
        let batch = try CleanerFixtures.batch([
            Entry(offset: 0, key: nil, value: "legacy"),
            Entry(offset: 1, key: "a", value: "1"),
            Entry(offset: 2, key: nil, value: nil),
        ])
        let result = try RecordFilter.filter(batch, offsetMap: try map(of: [batch]), configuration: configuration())
        #expect(try summary(try written(result.outcome, original: batch)).map(\.0) == [1])
        #expect(result.keylessRecords == 2)

        let onlyKeyless = try CleanerFixtures.batch([Entry(offset: 3, key: nil, value: "x")])
        #expect(try RecordFilter.filter(onlyKeyless, offsetMap: try map(of: [batch, onlyKeyless]), configuration: configuration()).outcome == .discard)
    }

    @Test func recordsBeyondTheMapAreKept() throws {
        let early = try CleanerFixtures.batch([Entry(offset: 0, key: "a", value: "1")])
        let late = try CleanerFixtures.batch([
            Entry(offset: 5, key: "a", value: "2"),
            Entry(offset: 6, key: nil, value: "keyless but unseen"),
        ])
        // The map only covers `early`: nothing is known about offsets above 0.
        let map = try map(of: [early])
        #expect(map.latestOffset == 0)
        #expect(try RecordFilter.filter(early, offsetMap: map, configuration: configuration()).outcome == .keepOriginal)
        #expect(try RecordFilter.filter(late, offsetMap: map, configuration: configuration()).outcome == .keepOriginal)
    }

    // MARK: Tombstones and the delete horizon

    @Test func firstCleaningKeepsTombstonesAndStampsTheHorizon() throws {
        let batch = try CleanerFixtures.batch([
            Entry(offset: 50, key: "gone", value: "v", timestamp: 900),
            Entry(offset: 51, key: "gone", value: nil, timestamp: 901),
            Entry(offset: 52, key: "live", value: "v", timestamp: 902),
        ])
        let result = try RecordFilter.filter(batch, offsetMap: try map(of: [batch]), configuration: configuration())
        let rewritten = try written(result.outcome, original: batch)!
        #expect(rewritten.deleteHorizonMs == Self.now + Self.retention)
        #expect(rewritten.attributes.hasDeleteHorizonMs)
        #expect(rewritten.baseTimestamp == Self.now + Self.retention)
        let records = try rewritten.records()
        #expect(records.map(\.offset) == [51, 52])
        #expect(records.map(\.timestamp) == [901, 902])
        #expect(records[0].value == nil)
    }

    @Test func aBatchWhoseOnlyChangeIsTheHorizonIsRewritten() throws {
        let batch = try CleanerFixtures.batch([Entry(offset: 0, key: "k", value: nil)])
        let result = try RecordFilter.filter(batch, offsetMap: try map(of: [batch]), configuration: configuration())
        let rewritten = try written(result.outcome, original: batch)!
        #expect(rewritten.deleteHorizonMs == Self.now + Self.retention)
        #expect(try summary(rewritten).map(\.0) == [0])
    }

    /// Cleans `batch` at `first`, then again at `second`; returns the second outcome's batch.
    private func cleanTwice(_ batch: RecordBatch, first: Int64, second: Int64) throws -> RecordBatch? {
        let map = try map(of: [batch])
        let once = try written(
            try RecordFilter.filter(batch, offsetMap: map, configuration: configuration(now: first)).outcome, original: batch)!
        return try written(
            try RecordFilter.filter(once, offsetMap: map, configuration: configuration(now: second)).outcome, original: once)
    }

    @Test func tombstonesStayUntilTheHorizon() throws {
        let batch = try CleanerFixtures.batch([
            Entry(offset: 0, key: "gone", value: nil),
            Entry(offset: 1, key: "live", value: "v"),
        ])
        let horizon = Self.now + Self.retention

        let before = try cleanTwice(batch, first: Self.now, second: horizon - 1)
        #expect(try summary(before).map(\.0) == [0, 1])
        #expect(before?.deleteHorizonMs == horizon)

        let at = try cleanTwice(batch, first: Self.now, second: horizon)
        #expect(try summary(at).map(\.0) == [1])
        #expect(at?.deleteHorizonMs == horizon)
        #expect(at?.lastOffset == 1)

        let onlyTombstone = try CleanerFixtures.batch([Entry(offset: 7, key: "gone", value: nil)])
        #expect(try cleanTwice(onlyTombstone, first: Self.now, second: horizon) == nil)
    }

    @Test func aTombstoneWithinTheHorizonIsCopiedUnchanged() throws {
        let batch = try CleanerFixtures.batch([Entry(offset: 0, key: "gone", value: nil)]) {
            $0.deleteHorizonMs = Self.now + 10
        }
        let result = try RecordFilter.filter(batch, offsetMap: try map(of: [batch]), configuration: configuration())
        #expect(result.outcome == .keepOriginal)

        let expired = try RecordFilter.filter(batch, offsetMap: try map(of: [batch]), configuration: configuration(now: Self.now + 10))
        #expect(expired.outcome == .discard)
        #expect(expired.expiredTombstones == 1)
    }

    @Test func supersededTombstonesGoAtOnce() throws {
        let batch = try CleanerFixtures.batch([
            Entry(offset: 0, key: "k", value: nil),
            Entry(offset: 1, key: "k", value: "back"),
        ])
        let result = try RecordFilter.filter(batch, offsetMap: try map(of: [batch]), configuration: configuration())
        let rewritten = try written(result.outcome, original: batch)!
        #expect(try summary(rewritten).map(\.0) == [1])
        #expect(rewritten.deleteHorizonMs == nil)
    }

    // MARK: Producer state

    @Test func theLastBatchOfAnActiveProducerLeavesAnEmptyHeader() throws {
        let batch = try CleanerFixtures.batch([
            Entry(offset: 20, key: "a", value: "old"),
            Entry(offset: 22, key: "a", value: "older?"),
        ], baseOffset: 20) {
            $0.compression = .lz4
            $0.producerId = 9
            $0.producerEpoch = 2
            $0.baseSequence = 40
            $0.partitionLeaderEpoch = 5
            $0.isTransactional = true
        }
        let newer = try CleanerFixtures.batch([Entry(offset: 30, key: "a", value: "new")])
        let map = try map(of: [batch, newer])

        let active = try RecordFilter.filter(batch, offsetMap: map, configuration: configuration(producers: [9: 22]))
        guard case .keepEmptyHeader(let bytes) = active.outcome else {
            Issue.record("expected an empty header, got \(active.outcome)")
            return
        }
        #expect(bytes.readableBytes == RecordBatch.headerSize)
        let header = try RecordBatch(bytes)
        try header.validate()
        #expect(header.recordCount == 0)
        #expect(try header.records().isEmpty)
        #expect(header.baseOffset == 20)
        #expect(header.lastOffset == 22)
        #expect(header.producerId == 9 && header.producerEpoch == 2 && header.baseSequence == 40)
        #expect(header.lastSequence == batch.lastSequence)
        #expect(header.partitionLeaderEpoch == 5)
        #expect(header.isTransactional)
        #expect(header.compression == CompressionCodec.none)
        #expect(header.maxTimestamp == batch.maxTimestamp)
        #expect(header.baseTimestamp == -1)

        // Another producer, or an older batch of the same producer: dropped.
        #expect(try RecordFilter.filter(batch, offsetMap: map, configuration: configuration(producers: [8: 22])).outcome == .discard)
        #expect(try RecordFilter.filter(batch, offsetMap: map, configuration: configuration(producers: [9: 40])).outcome == .discard)
        #expect(try RecordFilter.filter(batch, offsetMap: map, configuration: configuration()).outcome == .discard)
    }

    @Test func controlBatchesAreKeptForNow() throws {
        let marker = try CleanerFixtures.batch([Entry(offset: 9, key: "\u{0}\u{0}\u{0}\u{0}", value: "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}")]) {
            $0.isControlBatch = true
            $0.isTransactional = true
            $0.producerId = 3
        }
        let result = try RecordFilter.filter(marker, offsetMap: OffsetMap(slotLimit: 11), configuration: configuration())
        #expect(result.outcome == .keepOriginal)
    }

    // MARK: Against a model

    /// Random logs of keyed, keyless and tombstone records in random codecs: after one cleaning,
    /// the survivors are exactly the latest record per key (tombstones included, since no batch
    /// had a horizon), at their original offsets, and every batch keeps its offset range.
    @Test func matchesTheLatestPerKeyModel() async {
        await propertyCheck(count: 120, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            var batches: [RecordBatch] = []
            var latest: [String: (offset: Int64, value: String?)] = [:]
            var offset = Int64.random(in: 0...1_000, using: &rng)
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                var entries: [Entry] = []
                for _ in 0..<Int.random(in: 1...12, using: &rng) {
                    let key: String? = Int.random(in: 0..<10, using: &rng) == 0 ? nil : "k\(Int.random(in: 0..<8, using: &rng))"
                    let value: String? = Int.random(in: 0..<5, using: &rng) == 0 ? nil : "v\(offset)"
                    entries.append(Entry(offset: offset, key: key, value: value, timestamp: 1_000 + offset))
                    if let key { latest[key] = (offset, value) }
                    offset += Int64.random(in: 1...2, using: &rng)
                }
                let codec = CompressionCodec.allCases.randomElement(using: &rng)!
                batches.append(try CleanerFixtures.batch(entries) { $0.compression = codec })
            }
            let map = try map(of: batches)

            var survivors: [Int64: (key: String?, value: String?)] = [:]
            for batch in batches {
                let result = try RecordFilter.filter(batch, offsetMap: map, configuration: configuration())
                guard let out = try written(result.outcome, original: batch) else { continue }
                #expect(out.baseOffset == batch.baseOffset)
                #expect(out.lastOffset == batch.lastOffset)
                #expect(out.compression == batch.compression)
                for record in try out.records() {
                    survivors[record.offset] = (CleanerFixtures.string(record.key), CleanerFixtures.string(record.value))
                }
            }
            let expected = Dictionary(uniqueKeysWithValues: latest.map { ($0.value.offset, ($0.key, $0.value.value)) })
            #expect(survivors.keys.sorted() == expected.keys.sorted())
            for (offset, record) in survivors {
                #expect(record.key == expected[offset]?.0)
                #expect(record.value == expected[offset]?.1)
            }
        }
    }
}
