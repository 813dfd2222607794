import BrookRecords
import Testing

@testable import BrookStorage

@Suite struct LogConfigCompressionTests {
    @Test(arguments: [
        ("producer", nil), ("uncompressed", CompressionCodec.none), ("gzip", .gzip), ("snappy", .snappy),
        ("lz4", .lz4), ("zstd", .zstd),
    ] as [(String, CompressionCodec?)])
    func compressionTypeNamesTheStoredCodec(value: String, codec: CompressionCodec?) throws {
        let config = try LogConfig(overrides: ["compression.type": value])
        #expect(config.storedCompression == codec)
    }

    @Test func levelsComeFromTheCodecsKey() throws {
        let defaults = LogConfig()
        #expect(defaults.compressionLevel(for: .gzip) == nil)
        #expect(defaults.compressionLevel(for: .lz4) == 9)
        #expect(defaults.compressionLevel(for: .zstd) == 3)
        #expect(defaults.compressionLevel(for: .snappy) == nil)
        #expect(defaults.compressionLevel(for: .none) == nil)
        let tuned = try LogConfig(overrides: ["compression.gzip.level": "9", "compression.lz4.level": "1", "compression.zstd.level": "-5"])
        #expect(tuned.compressionLevel(for: .gzip) == 9)
        #expect(tuned.compressionLevel(for: .lz4) == 1)
        #expect(tuned.compressionLevel(for: .zstd) == -5)
    }
}
