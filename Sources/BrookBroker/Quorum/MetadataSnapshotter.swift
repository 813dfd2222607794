import BrookModel
import Dispatch
import Logging
import Synchronization

/// Takes snapshots of the metadata image (``MetadataSnapshot``) as the quorum's committed
/// records are applied: once `metadata.log.max.record.bytes.between.snapshots` bytes were
/// committed since the last snapshot, or `metadata.log.max.snapshot.interval.ms` after it when
/// anything was. The image is captured on the quorum's thread at the exact offset it stands
/// for (a copy-on-write value: no copying); encoding and writing happen on a queue of their own,
/// one snapshot at a time. A snapshot covers only what this node's log holds on disk, so a
/// crash never leaves a snapshot ahead of the log.
final class MetadataSnapshotter: Sendable {
    struct Settings: Sendable {
        var maxBytesBetween = 20_971_520
        var maxIntervalMs: Int64 = 3_600_000
    }

    let directory: String
    let settings: Settings
    let logger: Logger
    /// The end of what the metadata log holds on disk.
    private let durableEnd: @Sendable () -> Int64
    private let writer = DispatchQueue(label: "brook.metadata-snapshots")

    private struct State {
        var bytesSince = 0
        var lastTakenAt: Int64
        var last: MetadataSnapshot.Id?
        var writing = false
        var onWritten: (@Sendable (MetadataSnapshot.Id) -> Void)?
    }

    private let state: Mutex<State>

    init(directory: String, settings: Settings, latest: MetadataSnapshot.Id?, logger: Logger, durableEnd: @escaping @Sendable () -> Int64) {
        self.directory = directory
        self.settings = settings
        self.logger = logger
        self.durableEnd = durableEnd
        self.state = Mutex(State(lastTakenAt: QuorumDriver.now(), last: latest))
    }

    /// The latest snapshot taken or loaded.
    var latest: MetadataSnapshot.Id? { state.withLock { $0.last } }

    /// Committed entries of `bytes` bytes were applied, the last of them in `epoch`, making
    /// `image` the image at `endOffset` and `voters` the voter set of a dynamic quorum there.
    func applied(bytes: Int, endOffset: Int64, epoch: Int32, image: MetadataImage, voters: [QuorumVoter]? = nil) {
        let now = QuorumDriver.now()
        let id = MetadataSnapshot.Id(endOffset: endOffset, epoch: max(0, epoch))
        let take = state.withLock { state -> Bool in
            state.bytesSince += bytes
            let due = state.bytesSince >= settings.maxBytesBetween
                || (settings.maxIntervalMs > 0 && state.bytesSince > 0 && now - state.lastTakenAt >= settings.maxIntervalMs)
            guard due, !state.writing, endOffset <= durableEnd(), state.last.map({ $0.endOffset < endOffset }) ?? true else {
                return false
            }
            state.writing = true
            state.bytesSince = 0
            state.lastTakenAt = now
            return true
        }
        guard take else { return }
        writer.async { [self] in
            let started = QuorumDriver.now()
            do {
                try MetadataSnapshot.write(
                    image, id: id, lastContainedTimestamp: Int64(clamping: now), directory: directory, voters: voters)
                logger.info("metadata snapshot \(id.fileName) written in \(QuorumDriver.now() - started) ms")
                let written = state.withLock { state in
                    state.last = max(state.last ?? id, id)
                    state.writing = false
                    return state.onWritten
                }
                written?(id)
            } catch {
                logger.error("could not write metadata snapshot \(id.fileName) (the next one is tried later): \(error)")
                state.withLock { $0.writing = false }
            }
        }
    }

    /// Has `body` told of each snapshot written (the quorum then may drop the log below it).
    func whenWritten(_ body: @escaping @Sendable (MetadataSnapshot.Id) -> Void) {
        state.withLock { $0.onWritten = body }
    }

    /// A snapshot fetched from the leader replaced the log: the next one is taken after it.
    func installed(_ id: MetadataSnapshot.Id) {
        state.withLock { state in
            state.last = max(state.last ?? id, id)
            state.bytesSince = 0
        }
    }

    /// Waits for a snapshot being written (tests; a write cut short by a stop leaves no file, as
    /// it is renamed into place only once whole).
    func drain() {
        writer.sync {}
    }
}
