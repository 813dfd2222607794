import BrookRecords

extension LogConfig {
    /// The codec batches are stored with, from `compression.type`: nil for `producer` (keep the
    /// producer's codec), ``CompressionCodec/none`` for `uncompressed`.
    ///
    /// The log itself never re-encodes (see ``PartitionLog/append(_:leaderEpoch:origin:)``); the
    /// broker re-encodes a producer's batches to this codec before it appends them.
    public var storedCompression: CompressionCodec? {
        switch compressionType {
        case .producer: nil
        case .uncompressed: CompressionCodec.none
        case .gzip: .gzip
        case .snappy: .snappy
        case .lz4: .lz4
        case .zstd: .zstd
        }
    }

    /// The level `compression.gzip.level`, `compression.lz4.level` or `compression.zstd.level`
    /// sets for `codec`; nil for the codec's default (gzip -1, and codecs without levels).
    public func compressionLevel(for codec: CompressionCodec) -> Int32? {
        switch codec {
        case .gzip: compressionGzipLevel == -1 ? nil : compressionGzipLevel
        case .lz4: compressionLZ4Level
        case .zstd: compressionZstdLevel
        case .none, .snappy: nil
        }
    }
}
