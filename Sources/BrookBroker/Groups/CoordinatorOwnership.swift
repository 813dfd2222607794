import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookRecords
import NIOCore
import Synchronization

/// The partitions of a coordinator's topic (`__consumer_offsets`, `__transaction_state`) this
/// broker leads, with their leader epochs: what a coordinator is loaded for. On a single node
/// there is one owner of everything (`everything`); in a cluster each broker coordinates the
/// groups and transactional ids whose partitions it leads, as Kafka's brokers do.
struct CoordinatorOwnership: Equatable, Sendable {
    /// Partition → leader epoch, for the partitions led here; nil on a single node (all of them).
    var ledEpochs: [Int32: Int32]?

    static let everything = CoordinatorOwnership(ledEpochs: nil)

    /// What `nodeId` leads of `topic` in `image`; nil when the topic does not exist.
    static func of(_ topic: String, in image: MetadataImage, nodeId: Int32) -> CoordinatorOwnership? {
        guard let partitions = image.topics[topic]?.partitions else { return nil }
        var led: [Int32: Int32] = [:]
        for partition in partitions where partition.leader == nodeId { led[partition.index] = partition.leaderEpoch }
        return CoordinatorOwnership(ledEpochs: led)
    }

    func owns(_ partition: Int32) -> Bool {
        ledEpochs.map { $0[partition] != nil } ?? true
    }
}

/// A coordinator loader per ownership: when the partitions this broker leads change (one moved
/// here or away, or a leader epoch grew), the loaded coordinator is retired (its parked requests
/// answered NOT_COORDINATOR) and one for the new ownership loads from the logs, answering
/// COORDINATOR_LOAD_IN_PROGRESS meanwhile.
final class OwnedCoordinatorLoader<Coordinator: Sendable>: Sendable {
    private struct Current {
        var ownership: CoordinatorOwnership
        var loader: CoordinatorLoader<Coordinator>
    }

    private let current: Mutex<Current?>
    private let make: @Sendable (CoordinatorOwnership) -> CoordinatorLoader<Coordinator>
    private let shutdown: @Sendable (Coordinator) -> Void

    init(
        make: @escaping @Sendable (CoordinatorOwnership) -> CoordinatorLoader<Coordinator>,
        shutdown: @escaping @Sendable (Coordinator) -> Void
    ) {
        self.current = Mutex(nil)
        self.make = make
        self.shutdown = shutdown
    }

    /// The loader for `ownership`, replacing (and retiring) one made for another.
    func loader(for ownership: CoordinatorOwnership) -> CoordinatorLoader<Coordinator> {
        let (loader, retired) = current.withLock { current -> (CoordinatorLoader<Coordinator>, CoordinatorLoader<Coordinator>?) in
            if let existing = current, existing.ownership == ownership { return (existing.loader, nil) }
            let fresh = make(ownership)
            defer { current = Current(ownership: ownership, loader: fresh) }
            return (fresh, current?.loader)
        }
        if let retired, let coordinator = retired.retire() { shutdown(coordinator) }
        return loader
    }

    /// The loaded coordinator, if any.
    var ready: Coordinator? { current.withLock { $0?.loader }?.ready }

    /// Stops handing coordinators out (shutdown).
    func close() {
        current.withLock { $0?.loader }?.close()
    }
}

/// A partition of a coordinator's topic that another broker leads: nothing to replay here, and
/// appends are refused (the shard is never handed out, so none should come).
struct UnownedCoordinatorLog: CoordinatorLog {
    func append(_ batch: ByteBuffer) throws {
        throw CoordinatorLogError(code: .notLeaderOrFollower)
    }

    func replay(_ visit: (RecordBatch) throws -> Void) throws {}
}
