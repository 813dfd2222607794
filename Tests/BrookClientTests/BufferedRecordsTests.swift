@testable import BrookClient
import BrookRecords
import Testing

/// A partition's buffer of fetched records, taken a poll at a time.
@Suite struct BufferedRecordsTests {
    static func records(_ offsets: Range<Int64>) -> [ConsumerRecord] {
        offsets.map {
            ConsumerRecord(topic: "t", partition: 0, offset: $0, timestamp: 0, timestampType: .createTime,
                           key: nil, value: nil, headers: [], leaderEpoch: 0)
        }
    }

    @Test func takesInOrderAcrossFetchesUpToTheLimit() {
        var buffer = BufferedRecords()
        buffer.append(Self.records(0..<5), bytes: 500)
        buffer.append([], bytes: 0)
        buffer.append(Self.records(5..<8), bytes: 300)
        buffer.append(Self.records(8..<20), bytes: 1_200)
        #expect(buffer.count == 20 && buffer.bytes == 2_000)

        var polled: [[Int64]] = []
        var bytes: [Int] = []
        while !buffer.isEmpty {
            var output: [ConsumerRecord] = []
            let last = buffer.take(upTo: 6, into: &output)
            #expect(last == output.last?.offset)
            polled.append(output.map(\.offset))
            bytes.append(buffer.bytes)
        }
        #expect(polled == [Array(0..<6), Array(6..<12), Array(12..<18), Array(18..<20)])
        #expect(buffer.count == 0)
        #expect(bytes == [1_500, 1_200, 1_200, 0], "a fetch's bytes count until all its records are taken")

        var output: [ConsumerRecord] = []
        #expect(buffer.take(upTo: 6, into: &output) == nil)
        #expect(output.isEmpty)
    }

    @Test func appendsAfterWhatTheCallerAlreadyHasAndStartsOverWhenCleared() {
        var buffer = BufferedRecords()
        buffer.append(Self.records(10..<13), bytes: 30)
        var output = Self.records(0..<2)
        #expect(buffer.take(upTo: 10, into: &output) == 12)
        #expect(output.map(\.offset) == [0, 1, 10, 11, 12])

        buffer.append(Self.records(13..<16), bytes: 30)
        var partial: [ConsumerRecord] = []
        _ = buffer.take(upTo: 1, into: &partial)
        buffer.removeAll()
        #expect(buffer.isEmpty && buffer.bytes == 0)
        buffer.append(Self.records(40..<42), bytes: 20)
        var fresh: [ConsumerRecord] = []
        #expect(buffer.take(upTo: 5, into: &fresh) == 41)
        #expect(fresh.map(\.offset) == [40, 41], "nothing left over from before the clear")
    }
}
