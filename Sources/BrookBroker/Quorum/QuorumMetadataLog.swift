import BrookModel
import BrookProtocol
import BrookRaft
import BrookRecords
import NIOCore
import Synchronization

/// The metadata store's log when the quorum replicates it: a change becomes one record batch
/// proposed to the quorum, and committed batches come back to the store in log order.
final class QuorumMetadataLog: ReplicatedMetadataLog {
    private let quorum = Mutex<QuorumDriver?>(nil)
    private let store = Mutex<MetadataStore?>(nil)
    private let snapshotter = Mutex<MetadataSnapshotter?>(nil)
    private let snapshotBase = Mutex<MetadataImage?>(nil)
    /// The committed voter set of a dynamic quorum (KIP-853), which its snapshots record; nil
    /// for static voters.
    private let committedVoters = Mutex<[QuorumVoter]?>(nil)
    let commitTimeout: Duration

    init(commitTimeout: Duration = .seconds(10)) {
        self.commitTimeout = commitTimeout
    }

    /// Has `snapshotter` see every image the committed records make (before the quorum starts);
    /// snapshots fetched from the leader are read onto `base`, the image of an empty log.
    /// `voters`: the committed voter set at start of a dynamic quorum.
    func snapshot(with snapshotter: MetadataSnapshotter, base: MetadataImage, voters: [QuorumVoter]?) {
        self.snapshotter.withLock { $0 = snapshotter }
        self.snapshotBase.withLock { $0 = base }
        self.committedVoters.withLock { $0 = voters }
    }

    /// The quorum replaced this node's log with the leader's snapshot `id`: the store's image
    /// becomes the snapshot's. The log checked the snapshot whole before installing it, so a
    /// failure to read it back is a disk failure, which stops the quorum.
    func install(_ id: EpochEndOffset) throws {
        guard let store = store.withLock({ $0 }), let snapshotter = snapshotter.withLock({ $0 }) else { return }
        let loaded = try MetadataSnapshot.load(
            MetadataSnapshot.Id(id), directory: snapshotter.directory, onto: snapshotBase.withLock { $0 } ?? store.image)
        if let voters = loaded.voters {
            committedVoters.withLock { $0 = voters }
        }
        store.replace(with: loaded.image)
        snapshotter.installed(MetadataSnapshot.Id(id))
    }

    /// Connects the two ends once both exist (the driver needs this log's `deliver`, the store
    /// needs this log).
    func connect(quorum: QuorumDriver, store: MetadataStore) {
        self.quorum.withLock { $0 = quorum }
        self.store.withLock { $0 = store }
    }

    func awaitActive() throws(MetadataError) {
        guard let quorum = quorum.withLock({ $0 }) else {
            throw MetadataError(.notController, "the metadata quorum is not running")
        }
        do { try quorum.awaitActive(timeout: commitTimeout) } catch { throw MetadataError(error.code, error.description) }
    }

    func commit(_ records: [ByteBuffer]) throws(MetadataError) {
        guard !records.isEmpty else { return }
        guard let quorum = quorum.withLock({ $0 }) else {
            throw MetadataError(.notController, "the metadata quorum is not running")
        }
        var builder = RecordBatchBuilder()
        let now = Int64(QuorumDriver.now())
        for record in records { builder.append(timestamp: now, key: nil, value: record) }
        let batch: ByteBuffer
        do { batch = try builder.build() } catch {
            throw MetadataError(.unknownServerError, "cannot build the metadata batch: \(error)")
        }
        do {
            _ = try quorum.proposeAndWait(batch, recordCount: records.count, timeout: commitTimeout)
        } catch {
            throw MetadataError(error.code, error.description)
        }
    }

    /// Committed entries from the quorum, in order, ending at `end`: their metadata records go
    /// to the store, and the snapshotter sees the image they make. Control batches (the leaders'
    /// LeaderChangeMessage) carry none.
    func deliver(_ entries: [RaftEntry], end: Offset) {
        guard let store = store.withLock({ $0 }) else { return }
        defer {
            // The leader may have changed in entries a loaded snapshot covers: the quorum knows it.
            if let leader = quorum.withLock({ $0 })?.status.leader?.rawValue, store.image.controllerId != leader {
                store.applyControllerChange(leader)
            }
            if let last = entries.last, let snapshotter = snapshotter.withLock({ $0 }) {
                snapshotter.applied(
                    bytes: entries.reduce(0) { $0 + $1.payload.readableBytes }, endOffset: end.rawValue,
                    epoch: last.epoch.rawValue, image: store.image, voters: committedVoters.withLock { $0 })
            }
        }
        var records: [MetadataRecord] = []
        for entry in entries {
            guard let batch = try? RecordBatch(entry.payload), let batchRecords = try? batch.records() else { continue }
            if entry.voters != nil, let voters = QuorumVoterRecords.voters(inPayload: entry.payload) {
                committedVoters.withLock { $0 = voters }
                continue
            }
            if entry.isControl {
                // A leader's epoch-start batch: it is the active controller from here on.
                store.applyCommitted(records)
                records.removeAll()
                for record in batchRecords {
                    guard let key = record.key, (try? ControlRecordKey(decoding: key))?.type == .leaderChange,
                        var value = record.value, let change = try? LeaderChangeMessage(from: &value, version: 0)
                    else { continue }
                    store.applyControllerChange(change.leaderId)
                }
                continue
            }
            for record in batchRecords {
                guard let value = record.value, let decoded = try? MetadataRecord.decode(value) else { continue }
                records.append(decoded)
            }
        }
        store.applyCommitted(records)
    }
}
