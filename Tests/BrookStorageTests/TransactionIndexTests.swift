@testable import BrookStorage
import Foundation
import Testing

@Suite struct TransactionIndexTests {
    private func entry(_ producerId: Int64, _ first: Int64, _ last: Int64, _ stable: Int64) -> AbortedTransaction {
        AbortedTransaction(producerId: producerId, firstOffset: first, lastOffset: last, lastStableOffset: stable)
    }

    @Test func entriesAreKafkasThirtyFourBytesAndSurviveReopening() throws {
        let directory = try LogTestDirectory("txnindex-format")
        defer { directory.remove() }
        let path = directory.file("00000000000000000000.txnindex")
        var index = try TransactionIndex(path: path)
        #expect(!directory.exists(path))
        try index.append(entry(7, 3, 9, 10))
        try index.append(entry(8, 5, 12, 13))
        let bytes = directory.bytes(path)
        #expect(bytes.count == 2 * 34)
        let first: [UInt8] = [0, 0] + [0, 0, 0, 0, 0, 0, 0, 7] + [0, 0, 0, 0, 0, 0, 0, 3]
            + [0, 0, 0, 0, 0, 0, 0, 9] + [0, 0, 0, 0, 0, 0, 0, 10]
        #expect(Array(bytes[0..<34]) == first)
        #expect(try TransactionIndex(path: path).entries == [entry(7, 3, 9, 10), entry(8, 5, 12, 13)])
        #expect(throws: StorageError.self) { try index.append(entry(9, 1, 12, 13)) }
    }

    @Test func aTornTailIsDroppedAndCutByTheNextWrite() throws {
        let directory = try LogTestDirectory("txnindex-torn")
        defer { directory.remove() }
        let path = directory.file("00000000000000000000.txnindex")
        var index = try TransactionIndex(path: path)
        try index.append(entry(7, 3, 9, 10))
        try directory.write(path, directory.bytes(path) + [0, 0, 0, 1, 2])
        var reopened = try TransactionIndex(path: path)
        #expect(reopened.entries == [entry(7, 3, 9, 10)])
        try reopened.append(entry(8, 11, 12, 13))
        #expect(directory.size(path) == 68)
        #expect(try TransactionIndex(path: path).entries.count == 2)
    }

    @Test func truncationDropsEntriesWhoseMarkerIsCut() throws {
        let directory = try LogTestDirectory("txnindex-truncate")
        defer { directory.remove() }
        let path = directory.file("00000000000000000000.txnindex")
        var index = try TransactionIndex(path: path)
        try index.append(entry(1, 0, 4, 5))
        try index.append(entry(2, 2, 8, 9))
        try index.truncate(from: 8)
        #expect(index.entries == [entry(1, 0, 4, 5)])
        #expect(directory.size(path) == 34)
        try index.reset()
        #expect(index.entries.isEmpty && directory.size(path) == 0)
    }

    @Test func collectFindsOverlappingTransactionsAndKnowsWhenItIsComplete() throws {
        let directory = try LogTestDirectory("txnindex-collect")
        defer { directory.remove() }
        var index = try TransactionIndex(path: directory.file("00000000000000000000.txnindex"))
        try index.append(entry(1, 0, 4, 2))
        try index.append(entry(2, 2, 8, 9))
        try index.append(entry(3, 10, 12, 13))
        let middle = index.collect(from: 5, to: 9)
        #expect(middle.transactions.map(\.producerId) == [2] && middle.isComplete)
        let all = index.collect(from: 0, to: 20)
        #expect(all.transactions.map(\.producerId) == [1, 2, 3] && !all.isComplete)
        #expect(index.collect(from: 13, to: 20).transactions.isEmpty)
    }
}
