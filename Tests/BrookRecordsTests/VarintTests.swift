@testable import BrookRecords
import NIOCore
import PropertyBased
import Testing

@Suite struct VarintTests {
    @Test(arguments: [
        (Int32(0), [UInt8(0x00)]),
        (-1, [0x01]),
        (1, [0x02]),
        (63, [0x7E]),
        (-64, [0x7F]),
        (64, [0x80, 0x01]),
        (300, [0xD8, 0x04]),
        (Int32.max, [0xFE, 0xFF, 0xFF, 0xFF, 0x0F]),
        (Int32.min, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
    ] as [(Int32, [UInt8])])
    func knownVarints(value: Int32, encoded: [UInt8]) throws {
        var buffer = ByteBuffer()
        #expect(buffer.writeRecordVarint(value) == encoded.count)
        #expect(buffer.bytesArray == encoded)
        #expect(Varint.size(ofVarint: value) == encoded.count)
        let decoded = try decode(encoded) { try $0.readVarint() }
        #expect(decoded == value)
    }

    @Test func varintRoundTrip() async {
        await propertyCheck(count: 500, input: Gen.int32()) { value in
            var buffer = ByteBuffer()
            let written = buffer.writeRecordVarint(value)
            #expect(written == Varint.size(ofVarint: value))
            let bytes = buffer.bytesArray
            let decoded = try decode(bytes) { try $0.readVarint() }
            #expect(decoded == value)
        }
    }

    @Test func varlongRoundTrip() async {
        await propertyCheck(count: 500, input: Gen.int64()) { value in
            var buffer = ByteBuffer()
            let written = buffer.writeRecordVarlong(value)
            #expect(written == Varint.size(ofVarlong: value))
            #expect(written <= 10)
            let bytes = buffer.bytesArray
            let decoded = try decode(bytes) { try $0.readVarlong() }
            #expect(decoded == value)
        }
    }

    @Test func tooLongVarintsAreRejected() {
        let varint: [UInt8] = [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]
        #expect(throws: RecordBatchError.corruptRecord(reason: "varint is too long")) {
            try decode(varint) { _ = try $0.readVarint() }
        }
        let varlong = [UInt8](repeating: 0xFF, count: 11)
        #expect(throws: RecordBatchError.corruptRecord(reason: "varint is too long")) {
            try decode(varlong) { _ = try $0.readVarlong() }
        }
    }

    @Test func unterminatedVarintIsRejected() {
        let bytes: [UInt8] = [0x80, 0x80]
        #expect(throws: RecordBatchError.corruptRecord(reason: "varint runs past the end")) {
            try decode(bytes) { _ = try $0.readVarint() }
        }
    }
}

/// Runs `body` on a cursor over `bytes`. (Avoids passing typed-throws closures to `rethrows`
/// functions, which crashes the 6.3 compiler in IRGen.)
private func decode<T, E: Error>(_ bytes: [UInt8], _ body: (inout ByteCursor) throws(E) -> T) throws(E) -> T {
    try ByteBuffer(bytes: bytes).withReadableBytes { (raw) throws(E) in
        var cursor = ByteCursor(raw)
        return try body(&cursor)
    }
}
