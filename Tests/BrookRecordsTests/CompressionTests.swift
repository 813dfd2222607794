import BrookRecords
import NIOCore
import PropertyBased
import Testing

@Suite struct CompressionTests {
    static let codecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]

    @Test(arguments: CompressionCodec.allCases)
    func roundTripsRandomData(codec: CompressionCodec) async throws {
        await propertyCheck(count: 60, input: Generators.payload(maxLength: 300_000)) { bytes in
            let input = ByteBuffer(bytes: bytes)
            let compressed = try codec.compress(input)
            let output = try codec.decompress(compressed)
            #expect(output == input)
        }
    }

    @Test(arguments: CompressionCodec.allCases)
    func roundTripsEmptyInput(codec: CompressionCodec) throws {
        let compressed = try codec.compress(ByteBuffer())
        #expect(try codec.decompress(compressed).readableBytes == 0)
    }

    /// Found by the message-set fuzz target: a limit of Int.max ("no limit") overflowed `limit + 1`.
    @Test(arguments: CompressionCodec.allCases)
    func anUnboundedLimitDoesNotOverflow(codec: CompressionCodec) throws {
        let input = ByteBuffer(string: "no limit")
        #expect(try codec.decompress(try codec.compress(input), maxOutputBytes: .max) == input)
    }

    @Test(arguments: [Int32(1), 9])
    func honoursLevels(level: Int32) throws {
        let input = ByteBuffer(bytes: Array(repeating: Array("level test ".utf8), count: 500).flatMap { $0 })
        for codec in Self.codecs {
            let compressed = try codec.compress(input, level: level)
            #expect(try codec.decompress(compressed) == input)
        }
    }

    @Test(arguments: [
        ("sample.json.gz", CompressionCodec.gzip),
        ("sample.json.multi.gz", .gzip),
        ("sample.json.lz4", .lz4),
        ("sample.json.zst", .zstd),
        ("sample.json.nosize.zst", .zstd),
    ])
    func decompressesFramesWrittenBySystemTools(file: String, codec: CompressionCodec) throws {
        let expected = try fixture("compression/sample.json")
        let frame = try fixture("compression/\(file)")
        #expect(try codec.decompress(frame) == expected)
    }

    @Test func decompressesHandWrittenRawSnappy() throws {
        // Length 16, a 4-byte literal "abcd", then a 12-byte copy at offset 4 (2-byte-offset copy).
        let raw: [UInt8] = [0x10, 0x0C, 0x61, 0x62, 0x63, 0x64, 0x2E, 0x04, 0x00]
        let output = try CompressionCodec.snappy.decompress(ByteBuffer(bytes: raw))
        #expect(output == ByteBuffer(string: "abcdabcdabcdabcd"))
    }

    @Test func decompressesXerialFramedSnappy() throws {
        let first = ByteBuffer(string: String(repeating: "first block ", count: 300))
        let second = ByteBuffer(string: String(repeating: "second ", count: 100))
        var framed = ByteBuffer(bytes: [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
        for block in [first, second] {
            let compressed = try CompressionCodec.snappy.compress(block)
            framed.writeInteger(Int32(compressed.readableBytes))
            framed.writeImmutableBuffer(compressed)
        }
        var expected = first
        expected.writeImmutableBuffer(second)
        #expect(try CompressionCodec.snappy.decompress(framed) == expected)

        // The hand-written raw block above, framed.
        var handWritten = framed.getSlice(at: 0, length: 16)!
        handWritten.writeInteger(Int32(9))
        handWritten.writeBytes([0x10, 0x0C, 0x61, 0x62, 0x63, 0x64, 0x2E, 0x04, 0x00])
        #expect(try CompressionCodec.snappy.decompress(handWritten) == ByteBuffer(string: "abcdabcdabcdabcd"))

        // A header and no blocks is an empty stream.
        #expect(try CompressionCodec.snappy.decompress(framed.getSlice(at: 0, length: 16)!).readableBytes == 0)
    }

    @Test func rejectsBrokenXerialFraming() {
        let header: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]
        #expect(throws: CompressionError.truncatedInput) {
            try CompressionCodec.snappy.decompress(ByteBuffer(bytes: Array(header.prefix(12))))
        }
        #expect(throws: CompressionError.truncatedInput) {
            try CompressionCodec.snappy.decompress(ByteBuffer(bytes: header + [0, 0, 0, 50, 1, 2]))
        }
        #expect(throws: CompressionError.corruptInput("negative xerial block length -1")) {
            try CompressionCodec.snappy.decompress(ByteBuffer(bytes: header + [0xFF, 0xFF, 0xFF, 0xFF]))
        }
        #expect(throws: CompressionError.truncatedInput) {
            try CompressionCodec.snappy.decompress(ByteBuffer(bytes: header + [0, 0]))
        }
    }

    @Test(arguments: codecs)
    func stopsDecompressionBombs(codec: CompressionCodec) throws {
        let zeros = ByteBuffer(repeating: 0, count: 8 * 1024 * 1024)
        let bomb = try codec.compress(zeros)
        #expect(bomb.readableBytes < 1024 * 1024)
        #expect(throws: CompressionError.outputLimitExceeded(limit: 1024 * 1024)) {
            try codec.decompress(bomb, maxOutputBytes: 1024 * 1024)
        }
        // Exactly the limit is fine; one byte less is not.
        #expect(try codec.decompress(bomb, maxOutputBytes: zeros.readableBytes) == zeros)
        #expect(throws: CompressionError.outputLimitExceeded(limit: zeros.readableBytes - 1)) {
            try codec.decompress(bomb, maxOutputBytes: zeros.readableBytes - 1)
        }
    }

    @Test func uncompressedRespectsTheLimitToo() {
        #expect(throws: CompressionError.outputLimitExceeded(limit: 3)) {
            try CompressionCodec.none.decompress(ByteBuffer(string: "four"), maxOutputBytes: 3)
        }
    }

    @Test(arguments: codecs)
    func truncatedFramesThrow(codec: CompressionCodec) throws {
        let input = ByteBuffer(string: String(repeating: "truncate me, please ", count: 200))
        let compressed = try codec.compress(input)
        for length in 0..<compressed.readableBytes {
            #expect(throws: CompressionError.self, "\(codec) prefix \(length)") {
                try codec.decompress(compressed.getSlice(at: 0, length: length)!)
            }
        }
    }

    @Test(arguments: codecs)
    func garbageNeverCrashes(codec: CompressionCodec) async throws {
        let valid = try codec.compress(ByteBuffer(string: String(repeating: "some text 123 ", count: 100)))
        await propertyCheck(count: 300, input: Generators.payload(maxLength: 2_000), Gen.int(in: 0...2_000)) { noise, position in
            // Pure noise.
            _ = try? codec.decompress(ByteBuffer(bytes: noise), maxOutputBytes: 1 << 20)
            // A valid frame with a stretch overwritten.
            var damaged = valid
            let start = min(position, damaged.readableBytes)
            let stretch = Array(noise.prefix(damaged.readableBytes - start))
            damaged.setBytes(stretch, at: start)
            _ = try? codec.decompress(damaged, maxOutputBytes: 1 << 20)
        }
    }

    @Test(arguments: [CompressionCodec.gzip, .lz4, .zstd])
    func noiseIsCorruptInput(codec: CompressionCodec) {
        let noise = ByteBuffer(bytes: (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) })
        #expect {
            try codec.decompress(noise)
        } throws: { error in
            guard case .corruptInput = error as? CompressionError else { return false }
            return true
        }
    }
}
