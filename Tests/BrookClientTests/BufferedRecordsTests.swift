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
        buffer.append(Self.records(0..<5))
        buffer.append([])
        buffer.append(Self.records(5..<8))
        buffer.append(Self.records(8..<20))
        #expect(buffer.count == 20)

        var polled: [[Int64]] = []
        while !buffer.isEmpty {
            var output: [ConsumerRecord] = []
            let last = buffer.take(upTo: 6, into: &output)
            #expect(last == output.last?.offset)
            polled.append(output.map(\.offset))
        }
        #expect(polled == [Array(0..<6), Array(6..<12), Array(12..<18), Array(18..<20)])
        #expect(buffer.count == 0)

        var output: [ConsumerRecord] = []
        #expect(buffer.take(upTo: 6, into: &output) == nil)
        #expect(output.isEmpty)
    }

    @Test func appendsAfterWhatTheCallerAlreadyHasAndStartsOverWhenCleared() {
        var buffer = BufferedRecords()
        buffer.append(Self.records(10..<13))
        var output = Self.records(0..<2)
        #expect(buffer.take(upTo: 10, into: &output) == 12)
        #expect(output.map(\.offset) == [0, 1, 10, 11, 12])

        buffer.append(Self.records(13..<16))
        var partial: [ConsumerRecord] = []
        _ = buffer.take(upTo: 1, into: &partial)
        buffer.removeAll()
        #expect(buffer.isEmpty)
        buffer.append(Self.records(40..<42))
        var fresh: [ConsumerRecord] = []
        #expect(buffer.take(upTo: 5, into: &fresh) == 41)
        #expect(fresh.map(\.offset) == [40, 41], "nothing left over from before the clear")
    }
}
