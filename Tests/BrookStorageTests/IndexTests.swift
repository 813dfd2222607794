import Foundation
import Testing

@testable import BrookStorage

@Suite struct OffsetIndexTests {
    func makeIndex(_ directory: LogTestDirectory, base: Int64 = 100, maxEntries: Int = 1_000) throws -> OffsetIndex {
        OffsetIndex(baseOffset: base, storage: try IndexEntryFile(empty: directory.file("index")), maxEntries: maxEntries)
    }

    @Test func lookupFindsTheLargestEntryAtOrBelowTheTarget() throws {
        let directory = try LogTestDirectory("index")
        defer { directory.remove() }
        var index = try makeIndex(directory)
        #expect(index.lookup(offset: 150) == .init(offset: 100, position: 0))
        let added1 = index.append(offset: 110, position: 4_000)
        #expect(added1)
        let added2 = index.append(offset: 120, position: 8_100)
        #expect(added2)
        let added3 = index.append(offset: 135, position: 12_200)
        #expect(added3)
        #expect(index.lookup(offset: 99) == .init(offset: 100, position: 0))
        #expect(index.lookup(offset: 109) == .init(offset: 100, position: 0))
        #expect(index.lookup(offset: 110) == .init(offset: 110, position: 4_000))
        #expect(index.lookup(offset: 134) == .init(offset: 120, position: 8_100))
        #expect(index.lookup(offset: .max) == .init(offset: 135, position: 12_200))
        #expect(index.lookup(position: 8_099) == .init(offset: 110, position: 4_000))
        #expect(index.lookup(position: 8_100) == .init(offset: 120, position: 8_100))
        #expect(index.lastOffset == 135)
    }

    @Test func appendRejectsEntriesThatDoNotIncreaseOrDoNotFit() throws {
        let directory = try LogTestDirectory("index")
        defer { directory.remove() }
        var index = try makeIndex(directory, maxEntries: 2)
        let added4 = index.append(offset: 110, position: 10)
        #expect(added4)
        let added5 = index.append(offset: 110, position: 20)
        #expect(!added5)
        let added6 = index.append(offset: 111, position: 10)
        #expect(!added6)
        let added7 = index.append(offset: 99, position: 30)
        #expect(!added7)
        let added8 = index.append(offset: 100 + Int64(Int32.max) + 1, position: 30)
        #expect(!added8)
        let added9 = index.append(offset: 111, position: 20)
        #expect(added9)
        #expect(index.isFull)
        let added10 = index.append(offset: 112, position: 30)
        #expect(!added10)
        #expect(index.count == 2)
    }

    @Test func entriesPersistInKafkasLayoutAndLoadBack() throws {
        let directory = try LogTestDirectory("index")
        defer { directory.remove() }
        var index = try makeIndex(directory)
        try index.storage.preallocate(64)
        #expect(directory.size(directory.file("index")) == 64)
        _ = index.append(offset: 101, position: 0x0102_0304)
        _ = index.append(offset: 300, position: 0x0506_0708)
        try index.storage.trim()
        #expect(directory.bytes(directory.file("index")) == [0, 0, 0, 1, 1, 2, 3, 4, 0, 0, 0, 200, 5, 6, 7, 8])

        var loaded = OffsetIndex(baseOffset: 100, storage: try #require(try IndexEntryFile<OffsetIndex.Entry>(existing: directory.file("index"))), maxEntries: 10)
        try loaded.storage.load()
        #expect(loaded.entries == index.entries)
        #expect(loaded.validate(logSize: 0x0506_0709, upperOffset: 301) == nil)
    }

    @Test func truncationDropsEntriesAtOrPastAPosition() throws {
        let directory = try LogTestDirectory("index")
        defer { directory.remove() }
        var index = try makeIndex(directory)
        for entry in 1...5 {
            _ = index.append(offset: 100 + Int64(entry * 10), position: entry * 1_000)
        }
        try index.storage.persist()
        try index.truncate(toPosition: 3_000)
        #expect(index.entries.map(\.position) == [1_000, 2_000])
        #expect(directory.size(directory.file("index")) == 16)
        try index.truncate(toPosition: 0)
        #expect(index.count == 0)
    }

    @Test func validationCatchesImplausibleEntries() throws {
        let directory = try LogTestDirectory("index")
        defer { directory.remove() }
        func loaded(_ entries: [(Int32, Int32)]) throws -> OffsetIndex {
            var bytes: [UInt8] = []
            for (offset, position) in entries {
                bytes += withUnsafeBytes(of: offset.bigEndian, Array.init)
                bytes += withUnsafeBytes(of: position.bigEndian, Array.init)
            }
            try directory.write(directory.file("index"), bytes)
            var index = OffsetIndex(baseOffset: 100, storage: try #require(try IndexEntryFile<OffsetIndex.Entry>(existing: directory.file("index"))), maxEntries: 10)
            try index.storage.load()
            return index
        }
        #expect(try loaded([(1, 10), (2, 20)]).validate(logSize: 100, upperOffset: nil) == nil)
        #expect(try loaded([(2, 10), (1, 20)]).validate(logSize: 100, upperOffset: nil) != nil)
        #expect(try loaded([(1, 20), (2, 10)]).validate(logSize: 100, upperOffset: nil) != nil)
        #expect(try loaded([(-1, 10)]).validate(logSize: 100, upperOffset: nil) != nil)
        #expect(try loaded([(1, 100)]).validate(logSize: 100, upperOffset: nil) != nil)
        #expect(try loaded([(5, 10)]).validate(logSize: 100, upperOffset: 105) != nil)
        #expect(try loaded([(1, 10), (0, 0)]).validate(logSize: 100, upperOffset: nil) != nil)

        try directory.write(directory.file("index"), [1, 2, 3])
        var odd = OffsetIndex(baseOffset: 100, storage: try #require(try IndexEntryFile<OffsetIndex.Entry>(existing: directory.file("index"))), maxEntries: 10)
        #expect(throws: StorageError.self) { try odd.storage.load() }
    }
}

@Suite struct TimeIndexTests {
    func makeIndex(_ directory: LogTestDirectory, maxEntries: Int = 100) throws -> TimeIndex {
        TimeIndex(baseOffset: 1_000, storage: try IndexEntryFile(empty: directory.file("timeindex")), maxEntries: maxEntries)
    }

    @Test func entriesOnlyWhenTheTimestampGrows() throws {
        let directory = try LogTestDirectory("timeindex")
        defer { directory.remove() }
        var index = try makeIndex(directory)
        let added11 = index.maybeAppend(timestamp: 500, offset: 1_000)
        #expect(added11)
        let added12 = index.maybeAppend(timestamp: 500, offset: 1_010)
        #expect(!added12)
        let added13 = index.maybeAppend(timestamp: 400, offset: 1_020)
        #expect(!added13)
        let added14 = index.maybeAppend(timestamp: 900, offset: 1_030)
        #expect(added14)
        let added15 = index.maybeAppend(timestamp: 950, offset: 999)
        #expect(!added15)
        #expect(index.entries.map(\.timestamp) == [500, 900])
        #expect(index.lastEntry! == (900, 1_030))
    }

    @Test func lookupFindsTheLastEntryAtOrBelowTheTimestamp() throws {
        let directory = try LogTestDirectory("timeindex")
        defer { directory.remove() }
        var index = try makeIndex(directory)
        index.maybeAppend(timestamp: 100, offset: 1_005)
        index.maybeAppend(timestamp: 200, offset: 1_010)
        index.maybeAppend(timestamp: 300, offset: 1_020)
        #expect(index.lookup(timestamp: 99) == (-1, 1_000))
        #expect(index.lookup(timestamp: 100) == (100, 1_005))
        #expect(index.lookup(timestamp: 250) == (200, 1_010))
        #expect(index.lookup(timestamp: .max) == (300, 1_020))
    }

    @Test func fullIndexAcceptsOnlyTheForcedFinalEntry() throws {
        let directory = try LogTestDirectory("timeindex")
        defer { directory.remove() }
        var index = try makeIndex(directory, maxEntries: 1)
        let added16 = index.maybeAppend(timestamp: 10, offset: 1_000)
        #expect(added16)
        #expect(index.isFull)
        let added17 = index.maybeAppend(timestamp: 20, offset: 1_001)
        #expect(!added17)
        let added18 = index.maybeAppend(timestamp: 20, offset: 1_001, force: true)
        #expect(added18)
    }

    @Test func persistsTwelveByteBigEndianEntries() throws {
        let directory = try LogTestDirectory("timeindex")
        defer { directory.remove() }
        var index = try makeIndex(directory)
        index.maybeAppend(timestamp: 0x0102_0304_0506_0708, offset: 1_002)
        try index.storage.preallocate(120)
        try index.storage.persist()
        #expect(directory.size(directory.file("timeindex")) == 120)
        try index.storage.trim()
        #expect(directory.bytes(directory.file("timeindex")) == [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 2])
        try index.truncate(toOffset: 1_002)
        #expect(index.count == 0)
        #expect(directory.size(directory.file("timeindex")) == 0)
    }

    @Test func validationCatchesDecreasingEntries() throws {
        let directory = try LogTestDirectory("timeindex")
        defer { directory.remove() }
        var bytes: [UInt8] = []
        for (timestamp, offset) in [(Int64(50), Int32(1)), (Int64(40), Int32(2))] {
            bytes += withUnsafeBytes(of: timestamp.bigEndian, Array.init)
            bytes += withUnsafeBytes(of: offset.bigEndian, Array.init)
        }
        try directory.write(directory.file("timeindex"), bytes)
        var index = TimeIndex(baseOffset: 0, storage: try #require(try IndexEntryFile<TimeIndex.Entry>(existing: directory.file("timeindex"))), maxEntries: 10)
        try index.storage.load()
        #expect(index.validate(upperOffset: nil) != nil)
    }
}
