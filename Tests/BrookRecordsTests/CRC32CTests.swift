import BrookRecords
import NIOCore
import PropertyBased
import Testing

@Suite struct CRC32CTests {
    @Test(arguments: [
        (Array("123456789".utf8), UInt32(0xE306_9283)),
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        (Array(0...31), 0x46DD_794E),
        (Array((0...31).reversed()), 0x113F_DB5C),
        ([], 0),
    ] as [([UInt8], UInt32)])
    func knownVectors(input: [UInt8], expected: UInt32) {
        #expect(CRC32C.checksum(input) == expected)
        #expect(CRC32C.checksum(ByteBuffer(bytes: input)) == expected)
        let portable = input.withUnsafeBytes { CRC32C.portableUpdate(0, $0) }
        #expect(portable == expected)
    }

    @Test func checksumsOnlyTheReadableBytes() {
        var buffer = ByteBuffer(bytes: Array("xx123456789".utf8))
        buffer.moveReaderIndex(forwardBy: 2)
        #expect(CRC32C.checksum(buffer) == 0xE306_9283)
    }

    @Test func hardwareMatchesPortableForRandomLengthsAndAlignments() async {
        let source = (0..<(200_000 + 64)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        await propertyCheck(
            count: 300,
            input: Gen.int(in: 0...200_000), Gen.int(in: 0...63), Gen.uint32()
        ) { length, alignment, seed in
            source.withUnsafeBytes { raw in
                let slice = UnsafeRawBufferPointer(rebasing: raw[alignment..<(alignment + length)])
                #expect(CRC32C.update(seed, slice) == CRC32C.portableUpdate(seed, slice))
            }
        }
    }

    @Test func chainingEqualsOneShot() async {
        await propertyCheck(input: Generators.payload(maxLength: 5_000), Gen.int(in: 0...5_000)) { bytes, cut in
            let split = min(cut, bytes.count)
            bytes.withUnsafeBytes { raw in
                let first = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[..<split]))
                let chained = CRC32C.update(first, UnsafeRawBufferPointer(rebasing: raw[split...]))
                #expect(chained == CRC32C.update(0, raw))
            }
        }
    }

    @Test func reportsHardwareAvailability() {
        #if arch(x86_64)
        // Every x86-64 CPU this project runs on has SSE4.2; the portable path is tested above.
        #expect(CRC32C.isHardwareAccelerated)
        #else
        #expect(!CRC32C.isHardwareAccelerated)
        #endif
    }
}
