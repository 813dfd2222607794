import Foundation
import Testing

/// Seeded random runs of one partition replicated on three brokers under crashes (with lost
/// unsynced tails), pauses and cut links (see `ReplicationSimulation`). A failure names its seed;
/// `BROOK_SIMULATION_SEED=<seed> swift test --filter ReplicationSimulationTests` replays it, and
/// `BROOK_SIMULATION_SEEDS=<n>` runs seeds 1...n instead of the usual 40 (`make chaos` runs
/// thousands).
@Suite struct ReplicationSimulationTests {
    static let seeds: [UInt64] = {
        let environment = ProcessInfo.processInfo.environment
        if let replay = environment["BROOK_SIMULATION_SEED"].flatMap(UInt64.init) { return [replay] }
        return Array(1...(environment["BROOK_SIMULATION_SEEDS"].flatMap(UInt64.init) ?? 40))
    }()

    @Test(arguments: seeds)
    func noAcknowledgedRecordIsLostAndReplicasAgree(seed: UInt64) async {
        let simulation = await Self.onOwnThread {
            var simulation = ReplicationSimulation(seed: seed)
            simulation.run(steps: 6000)
            simulation.settle()
            return simulation
        }
        #expect(simulation.failures.isEmpty, Comment(rawValue: simulation.report))
        #expect(simulation.acknowledged.count > 100, "seed \(seed): only \(simulation.acknowledged.count) records acknowledged")
    }

    /// The checks catch a follower that skips KIP-320's divergence check.
    @Test func theChecksCatchAFollowerThatKeepsADivergentTail() async {
        let caught = await Self.onOwnThread {
            (UInt64(1)...40).contains { seed in
                var simulation = ReplicationSimulation(seed: seed &+ 1_000_000)
                simulation.faults.skipDivergenceCheck = true
                simulation.run(steps: 6000)
                simulation.settle()
                return !simulation.failures.isEmpty
            }
        }
        #expect(caught, "no run of the broken follower was caught")
    }

    /// A restarted broker acting on the metadata it replays, before its own registration, leads
    /// in epochs long over: the checks catch it (this is what the simulation first found).
    @Test func theChecksCatchABrokerActingOnMetadataOfItsPreviousProcess() async {
        let caught = await Self.onOwnThread {
            (UInt64(1)...40).contains { seed in
                var simulation = ReplicationSimulation(seed: seed)
                simulation.faults.registrationGate = false
                simulation.run(steps: 6000)
                simulation.settle()
                return !simulation.failures.isEmpty
            }
        }
        #expect(caught, "no run without the registration gate was caught")
    }

    static func onOwnThread<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }
}

extension ReplicationSimulationTests {
    /// `BROOK_SIMULATION_TRACE=<seed>` prints the events of one seed (for debugging).
    @Test func traceOneSeed() {
        guard let seed = ProcessInfo.processInfo.environment["BROOK_SIMULATION_TRACE"].flatMap(UInt64.init) else { return }
        var simulation = ReplicationSimulation(seed: seed)
        simulation.tracing = true
        simulation.run(steps: 6000)
        simulation.settle()
        let events = simulation.trace.filter { !$0.contains(" appends ") && !$0.contains(" acknowledges ") }
        print(events.suffix(300).joined(separator: "\n"))
        print(simulation.report)
    }
}
