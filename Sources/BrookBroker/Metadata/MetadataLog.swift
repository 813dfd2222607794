import NIOCore
import Synchronization

/// Where metadata records are made durable before they take effect, and replayed from at start.
///
/// The broker appends the records of each change as one unit; a later issue replicates this same
/// log with Raft.
public protocol MetadataLog: Sendable {
    /// Appends the records of one change atomically.
    func append(_ records: [ByteBuffer]) throws
    /// Every record appended so far, in order.
    func replay() throws -> [ByteBuffer]
}

/// A metadata log that lives only in memory, for tests.
public final class InMemoryMetadataLog: MetadataLog {
    private let records = Mutex<[ByteBuffer]>([])

    public init() {}

    public func append(_ newRecords: [ByteBuffer]) throws {
        records.withLock { $0.append(contentsOf: newRecords) }
    }

    public func replay() throws -> [ByteBuffer] {
        records.withLock { $0 }
    }
}
