import BrookRecords
import BrookStorage
import NIOCore

/// Builds one uncompressed, producer-style batch of exactly `bytes` bytes (records of up to
/// 1 KB, the last one padded to fit), so that an append writes the same number of bytes as a
/// `dd` block of that size. Below about 100 bytes the batch is one record, as small as it gets.
func makeBatch(bytes: Int) throws -> ByteBuffer {
    let recordSize = min(1_000, max(10, bytes / 16))
    // A record costs its value plus at most 16 bytes of framing, so the batch starts short.
    let count = max(1, (bytes - RecordBatch.headerSize) / (recordSize + 16))
    var lastValueSize = recordSize
    var batch = try buildBatch(records: count, valueSize: recordSize, lastValueSize: lastValueSize)
    // Varint lengths can grow by a byte as the last value grows: adjust a few times.
    for _ in 0..<4 where batch.readableBytes != bytes {
        lastValueSize = max(0, lastValueSize + bytes - batch.readableBytes)
        batch = try buildBatch(records: count, valueSize: recordSize, lastValueSize: lastValueSize)
    }
    return batch
}

private func buildBatch(records count: Int, valueSize: Int, lastValueSize: Int) throws -> ByteBuffer {
    var builder = RecordBatchBuilder()
    for index in 0..<count {
        let value = ByteBuffer(repeating: 0x61, count: index == count - 1 ? lastValueSize : valueSize)
        builder.append(timestamp: 1_700_000_000_000 + Int64(index), key: nil, value: value)
    }
    return try builder.build()
}

/// A log config whose segments are 1 GiB, as Kafka's default.
func perfLogConfig() throws -> LogConfig {
    try LogConfig(overrides: ["segment.bytes": "1073741824"])
}
