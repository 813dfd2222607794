import BrookProtocol
import NIOCore
import Testing

/// An array count is checked against what its elements need at the least, not only against the
/// bytes left: a frame cannot make the decoder reserve room for more elements than it holds.
@Suite struct ArrayCountBoundTests {
    /// A Fetch v4 body whose topic array claims `count` topics, followed by `padding` zero bytes.
    private func fetchV4(claimingTopics count: Int32, padding: Int) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeInteger(Int32(-1))      // replica id
        body.writeInteger(Int32(500))     // max wait
        body.writeInteger(Int32(1))       // min bytes
        body.writeInteger(Int32(1 << 20)) // max bytes
        body.writeInteger(Int8(0))        // isolation level
        body.writeInteger(count)
        body.writeRepeatingByte(0, count: padding)
        return body
    }

    @Test func aCountThatFitsTheBytesButNotTheElementsIsRefusedAtOnce() throws {
        // A v4 topic takes at least 6 bytes (a string's int16 length and an array's int32 count).
        var body = fetchV4(claimingTopics: 1_000, padding: 1_000)
        #expect(throws: ProtocolError.invalidLength(1_000)) { try FetchRequest(from: &body, version: 4) }
    }

    @Test func theLargestCountTheBytesCanHoldIsDecodedElementByElement() throws {
        // 1,000 topics of 6 bytes each: empty names and empty partition arrays.
        var body = fetchV4(claimingTopics: 1_000, padding: 6_000)
        let request = try FetchRequest(from: &body, version: 4)
        #expect(request.topics.count == 1_000)
        #expect(request.topics.allSatisfy { $0.topic.isEmpty && $0.partitions.isEmpty })
    }

    @Test func partitionArraysAreBoundedByTheirSixteenByteMinimum() throws {
        var body = fetchV4(claimingTopics: 1, padding: 0)
        body.writeInteger(Int16(1))
        body.writeString("t")
        body.writeInteger(Int32(100))                  // 100 partitions claimed...
        body.writeRepeatingByte(0, count: 100 * 16 - 1) // ...one byte short of their minimum
        #expect(throws: ProtocolError.invalidLength(100)) { try FetchRequest(from: &body, version: 4) }
    }

    @Test func compactCountsAreBoundedToo() throws {
        // Metadata v12 (flexible): each topic takes at least 2 bytes (its id is 16, so 18 in fact,
        // and the tagged field count); a claimed 5,000 over 5,000 bytes is refused.
        var body = ByteBuffer()
        body.writeInteger(UInt8(0x89)); body.writeInteger(UInt8(0x27)) // varint 5,001 = count 5,000 + 1
        body.writeRepeatingByte(0, count: 5_000)
        #expect(throws: ProtocolError.invalidLength(5_000)) { try MetadataRequest(from: &body, version: 12) }
    }
}
