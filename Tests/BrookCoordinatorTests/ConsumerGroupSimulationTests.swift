import Foundation
import Testing

/// Seeded random runs of a KIP-848 group (see `ConsumerGroupSimulation`). A failure names its
/// seed; `BROOK_SIMULATION_SEED=<seed> swift test --filter ConsumerGroupSimulationTests`
/// replays just that one, step for step, and `BROOK_SIMULATION_SEEDS=<n>` runs seeds 1...n
/// instead of the usual 200.
@Suite struct ConsumerGroupSimulationTests {
    static let seeds: [UInt64] = {
        let environment = ProcessInfo.processInfo.environment
        if let replay = environment["BROOK_SIMULATION_SEED"].flatMap(UInt64.init) { return [replay] }
        return Array(1...(environment["BROOK_SIMULATION_SEEDS"].flatMap(UInt64.init) ?? 200))
    }()

    @Test(arguments: seeds)
    func membersConvergeAndNoPartitionIsOwnedTwice(seed: UInt64) {
        var simulation = ConsumerGroupSimulation(seed: seed)
        simulation.run(steps: 400)
        simulation.settle(rounds: 6)
        #expect(simulation.failures.isEmpty, Comment(rawValue: simulation.report))
    }
}
