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

/// The metadata log when the metadata quorum replicates it.
protocol ReplicatedMetadataLog: Sendable {
    /// Proposes the records of one change as one batch and returns once the quorum committed it
    /// and this node applied it; blocks the calling thread meanwhile (admin and coordinator
    /// threads call it, never the cooperative pool). Throws NOT_CONTROLLER when this node does
    /// not lead the quorum, REQUEST_TIMED_OUT when no commit came in time.
    func commit(_ records: [ByteBuffer]) throws(MetadataError)
    /// Returns once this node is the active controller and has applied everything committed
    /// before its epoch; throws NOT_CONTROLLER when another node leads.
    func awaitActive() throws(MetadataError)
}
