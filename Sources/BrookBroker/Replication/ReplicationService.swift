import BrookStorage
import Logging
import NIOPosix
import ServiceLifecycle

/// Runs the leaders' ISR check (every half `replica.lag.time.max.ms` at most, as Kafka schedules
/// it, and at least twice a second) and writes the partitions' high watermarks to
/// `replication-offset-checkpoint` every `replica.high.watermark.checkpoint.interval.ms`, so a
/// restarted broker serves consumers from where the ISR had got. At shutdown it stops the
/// replica fetchers and writes the checkpoint a last time, before storage closes the logs.
struct ReplicationService: Service {
    let replicas: ReplicaManager
    let partitions: PartitionManager
    let checkpointInterval: Duration
    let logger: Logger

    func run() async throws {
        let check = Duration.milliseconds(min(500, max(10, replicas.settings.lagTimeMaxMs / 2)))
        let clock = ContinuousClock()
        var nextCheckpoint = clock.now + checkpointInterval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: check)
            } catch {
                break
            }
            replicas.checkIsrs()
            if clock.now >= nextCheckpoint {
                await checkpoint()
                nextCheckpoint = clock.now + checkpointInterval
            }
        }
        await replicas.stop()
        await checkpoint()
    }

    /// Writes the checkpoint on a blocking-I/O thread (it fsyncs), never the cooperative pool.
    private func checkpoint() async {
        let partitions = self.partitions
        do {
            try await NIOThreadPool.singleton.runIfActive {
                try partitions.logs.checkpointHighWatermarks(partitions.highWatermarks)
            }
        } catch {
            logger.warning("could not write replication-offset-checkpoint: \(error)")
        }
    }
}
