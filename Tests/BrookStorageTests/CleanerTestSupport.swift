import BrookRecords
import NIOCore

/// Builders shared by the cleaner tests.
enum CleanerFixtures {
    static func buffer(_ text: String) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        return buffer
    }

    static func string(_ buffer: ByteBuffer?) -> String? {
        buffer.map { String(buffer: $0) }
    }

    /// One record to put in a batch: key and value as text, nil for null.
    struct Entry: Sendable {
        var offset: Int64
        var key: String?
        var value: String?
        var timestamp: Int64 = 1_000
    }

    /// A v2 batch holding `entries` at their offsets (base offset = `baseOffset` or the first
    /// entry's offset).
    static func batch(
        _ entries: [Entry],
        baseOffset: Int64? = nil,
        configure: (inout RecordBatchBuilder.Configuration) -> Void = { _ in }
    ) throws -> RecordBatch {
        var configuration = RecordBatchBuilder.Configuration(baseOffset: baseOffset ?? entries.first?.offset ?? 0)
        configure(&configuration)
        var builder = RecordBatchBuilder(configuration: configuration)
        for entry in entries {
            try builder.append(Record(
                offset: entry.offset, timestamp: entry.timestamp,
                key: entry.key.map(buffer), value: entry.value.map(buffer)))
        }
        return try RecordBatch(try builder.build())
    }
}
