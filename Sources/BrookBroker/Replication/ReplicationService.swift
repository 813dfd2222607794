import ServiceLifecycle

/// Runs the leaders' ISR check every half `replica.lag.time.max.ms` (as Kafka schedules it) and,
/// at shutdown, stops the replica fetchers before storage closes the logs they write.
struct ReplicationService: Service {
    let replicas: ReplicaManager

    func run() async throws {
        let interval = Duration.milliseconds(max(10, replicas.settings.lagTimeMaxMs / 2))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: min(interval, .milliseconds(500)))
            } catch {
                break
            }
            replicas.checkIsrs()
        }
        await replicas.stop()
    }
}
