import BrookModel
import BrookRecords
import NIOCore
import PropertyBased
import Testing

@testable import BrookStorage

@Suite struct CleanerOffsetMapTests {
    @Test func sizedFromTheCleanerSettings() {
        let defaults = OffsetMap.Configuration()
        #expect(defaults.dedupeBufferSize == 128 * 1024 * 1024)
        #expect(defaults.cleanerThreads == 1)
        #expect(defaults.loadFactor == 0.9)
        #expect(defaults.bytesPerMap == 134_217_728)

        var shared = OffsetMap.Configuration()
        shared.cleanerThreads = 4
        #expect(shared.bytesPerMap == 33_554_432)
        var huge = OffsetMap.Configuration()
        huge.dedupeBufferSize = 8 * 1024 * 1024 * 1024
        #expect(huge.bytesPerMap == Int(Int32.max))

        let map = OffsetMap(configuration: shared)
        #expect(map.slots <= 33_554_432 / 24)
        #expect(map.slots > 33_554_432 / 24 - 1_000)
        #expect(map.capacity == Int(Double(map.slots) * 0.9))
        #expect(map.count == 0 && !map.isFull && map.latestOffset == -1)
    }

    @Test func defaultMapSize() {
        let map = OffsetMap()
        #expect(map.slots == 5_592_373)
        #expect(map.capacity == 5_033_135)
    }

    @Test(arguments: [(2, 2), (3, 3), (4, 3), (100, 97), (1_000, 997), (0, 2), (-5, 2)])
    func slotsAreTheLargestPrime(limit: Int, slots: Int) {
        let map = OffsetMap(slotLimit: limit)
        #expect(map.slots == slots)
        #expect(map.capacity >= 1 && map.capacity < map.slots)
    }

    @Test func putGetUpdate() {
        var map = OffsetMap(slotLimit: 101)
        let a = CleanerFixtures.buffer("a")
        let b = CleanerFixtures.buffer("b")
        #expect(map.get(key: a) == nil)
        #expect(map.put(key: a, offset: 3) == .inserted)
        #expect(map.put(key: b, offset: 4) == .inserted)
        #expect(map.put(key: a, offset: 9) == .updated)
        #expect(map.get(key: a) == 9)
        #expect(map.get(key: b) == 4)
        #expect(map.count == 2)
        #expect(map.latestOffset == 9)
        #expect(map.put(key: a, offset: -1) == .invalidOffset)
        #expect(map.get(key: a) == 9)

        // ByteBuffer, raw bytes and digest forms agree, whatever the buffer's reader index.
        var shifted = CleanerFixtures.buffer("xxa")
        shifted.moveReaderIndex(forwardBy: 2)
        #expect(map.get(key: shifted) == 9)
        #expect(map.get(digest: KeyDigest(of: Array("a".utf8))) == 9)
        #expect(Array("b".utf8).withUnsafeBytes { map.get(key: $0) } == 4)

        map.updateLatestOffset(5)
        #expect(map.latestOffset == 9)
        map.updateLatestOffset(20)
        #expect(map.latestOffset == 20)

        map.clear()
        #expect(map.count == 0 && map.latestOffset == -1)
        #expect(map.get(key: a) == nil && map.get(key: b) == nil)
        #expect(map.put(key: b, offset: 1) == .inserted)
        #expect(map.get(key: b) == 1)
    }

    @Test func emptyKeyIsAKey() {
        var map = OffsetMap(slotLimit: 11)
        #expect(map.put(key: CleanerFixtures.buffer(""), offset: 1) == .inserted)
        #expect(map.get(key: CleanerFixtures.buffer("")) == 1)
        #expect(map.get(key: CleanerFixtures.buffer("\u{0}")) == nil)
    }

    /// The map against a Dictionary model, through random puts that overflow it.
    @Test func behavesLikeABoundedDictionary() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let slotLimit = Int.random(in: 2...60, using: &rng)
            var map = OffsetMap(slotLimit: slotLimit, loadFactor: Double.random(in: 0.5...1.0, using: &rng))
            var model: [String: Int64] = [:]
            var latest: Int64 = -1
            let keySpace = Int.random(in: 1...(slotLimit * 2), using: &rng)
            var offset: Int64 = 0
            for _ in 0..<200 {
                let key = "k\(Int.random(in: 0..<keySpace, using: &rng))"
                offset += Int64.random(in: 1...3, using: &rng)
                let wasFull = map.isFull
                let outcome = map.put(key: CleanerFixtures.buffer(key), offset: offset)
                if model[key] != nil {
                    #expect(outcome == .updated)
                    model[key] = offset
                    latest = offset
                } else if wasFull {
                    #expect(outcome == .full)
                } else {
                    #expect(outcome == .inserted)
                    model[key] = offset
                    latest = offset
                }
                #expect(map.count == model.count)
                #expect(map.isFull == (model.count >= map.capacity))
                #expect(map.count <= map.capacity)
                #expect(map.latestOffset == latest)
            }
            for index in 0..<keySpace {
                let key = "k\(index)"
                #expect(map.get(key: CleanerFixtures.buffer(key)) == model[key])
            }
        }
    }

    @Test func fullMapRefusesNewKeysButUpdatesOldOnes() {
        var map = OffsetMap(slotLimit: 11, loadFactor: 0.5)
        #expect(map.capacity == 5)
        for index in 0..<5 {
            #expect(map.put(key: CleanerFixtures.buffer("k\(index)"), offset: Int64(index)) == .inserted)
        }
        #expect(map.isFull)
        #expect(map.put(key: CleanerFixtures.buffer("new"), offset: 10) == .full)
        #expect(map.get(key: CleanerFixtures.buffer("new")) == nil)
        #expect(map.latestOffset == 4)
        #expect(map.put(key: CleanerFixtures.buffer("k0"), offset: 11) == .updated)
        #expect(map.get(key: CleanerFixtures.buffer("k0")) == 11)
        for index in 1..<5 {
            #expect(map.get(key: CleanerFixtures.buffer("k\(index)")) == Int64(index))
        }
    }

    @Test func digestsSpreadAndAreDeterministic() {
        var inputs = Set<[UInt8]>()
        var rng = SplitMix64(seed: 7)
        for length in 0...40 {
            for _ in 0..<500 {
                inputs.insert((0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) })
            }
        }
        // Keys differing in one byte, or only in length.
        for index in 0..<20_000 { inputs.insert(Array("key-\(index)".utf8)) }
        for length in 1...40 { inputs.insert([UInt8](repeating: 0, count: length)) }

        var digests = Set<KeyDigest>()
        var unstable = 0
        for input in inputs {
            let digest = KeyDigest(of: input)
            if digest != KeyDigest(of: input) { unstable += 1 }
            digests.insert(digest)
        }
        #expect(unstable == 0)
        #expect(digests.count == inputs.count)
        #expect(KeyDigest(of: [1]) != KeyDigest(of: [1, 0]))
    }

    // MARK: Building from batches

    @Test func insertsTheKeysOfABatch() throws {
        let batch = try CleanerFixtures.batch([
            .init(offset: 10, key: "a", value: "1"),
            .init(offset: 11, key: nil, value: "keyless"),
            .init(offset: 12, key: "b", value: "2"),
            .init(offset: 14, key: "a", value: nil),
            .init(offset: 15, key: nil, value: "tail"),
        ])
        var map = OffsetMap(slotLimit: 101)
        #expect(try map.insertKeys(of: batch) == .complete)
        #expect(map.get(key: CleanerFixtures.buffer("a")) == 14)
        #expect(map.get(key: CleanerFixtures.buffer("b")) == 12)
        #expect(map.count == 2)
        #expect(map.latestOffset == 15)

        var fromMiddle = OffsetMap(slotLimit: 101)
        #expect(try fromMiddle.insertKeys(of: batch, startOffset: 13) == .complete)
        #expect(fromMiddle.get(key: CleanerFixtures.buffer("a")) == 14)
        #expect(fromMiddle.get(key: CleanerFixtures.buffer("b")) == nil)

        var pastEnd = OffsetMap(slotLimit: 101)
        #expect(try pastEnd.insertKeys(of: batch, startOffset: 16) == .complete)
        #expect(pastEnd.count == 0 && pastEnd.latestOffset == -1)
    }

    @Test func stopsWhenTheMapFills() throws {
        let batch = try CleanerFixtures.batch((0..<10).map { .init(offset: Int64($0), key: "k\($0)", value: "v") })
        var map = OffsetMap(slotLimit: 5, loadFactor: 0.9)
        #expect(map.capacity == 4)
        #expect(try map.insertKeys(of: batch) == .mapFull)
        #expect(map.count == 4)
        #expect(map.latestOffset == 3)
        #expect(map.get(key: CleanerFixtures.buffer("k4")) == nil)
    }

    @Test func controlBatchesAddNoKeys() throws {
        let marker = try CleanerFixtures.batch([.init(offset: 20, key: "\u{0}\u{0}\u{0}\u{1}", value: "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}")]) {
            $0.isControlBatch = true
            $0.isTransactional = true
            $0.producerId = 1
        }
        var map = OffsetMap(slotLimit: 11)
        #expect(try map.insertKeys(of: marker) == .complete)
        #expect(map.count == 0)
        #expect(map.latestOffset == 20)
    }
}
