import BrookProtocol
import NIOCore
import Testing

/// Bad bytes produce a ``ProtocolError``, never a trap or a huge allocation. Arbitrary bytes are
/// the fuzzer's job: see Tests/BrookFuzzTargetsTests and `make fuzz`.
@Suite struct MalformedInputTests {
    @Test func lyingArrayCountsFailBeforeAllocating() {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(-1))  // null transactional id
        buffer.writeInteger(Int16(1))  // acks
        buffer.writeInteger(Int32(1_000))  // timeout
        buffer.writeInteger(Int32.max)  // topic count far beyond the bytes present
        #expect(throws: ProtocolError.invalidLength(Int64(Int32.max))) {
            try ProduceRequest(from: &buffer, version: 3)
        }
    }

    @Test func lyingStringLengthsAreTruncationErrors() {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(100))
        buffer.writeBytes(Array("short".utf8))
        #expect(throws: ProtocolError.truncated(needed: 100, available: 5)) {
            try buffer.readString(compact: false)
        }
    }

    @Test func negativeLengthsOtherThanNullAreRejected() {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(-2))
        #expect(throws: ProtocolError.invalidLength(-2)) { try buffer.readNullableBytes(compact: false) }
    }

    @Test func nullInANonNullableFieldIsAnError() {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(-1))  // topic name null
        buffer.writeInteger(Int32(0))
        #expect(throws: ProtocolError.unexpectedNull(field: "Name")) {
            try ProduceRequest.TopicProduceData(from: &buffer, version: 3)
        }
    }

    @Test func overlongVarintsAreRejected() {
        var buffer = ByteBuffer(bytes: Array(repeating: 0xFF, count: 11))
        #expect(throws: ProtocolError.varintTooLong) { try buffer.readUnsignedVarint() }
    }

    @Test(arguments: [Int32.min, -1, 0, 1, 63, -64, 1 << 20, Int32.max])
    func zigZagVarintsRoundTrip(_ value: Int32) throws {
        var buffer = ByteBuffer()
        buffer.writeVarint(value)
        buffer.writeVarlong(Int64(value) * 3)
        #expect(try buffer.readVarint() == value)
        #expect(try buffer.readVarlong() == Int64(value) * 3)
    }
}
