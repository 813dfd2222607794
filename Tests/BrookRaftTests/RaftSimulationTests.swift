import BrookModel
import Foundation
import Testing

/// Seeded random runs of a Raft quorum (see `RaftSimulation`). A failure names its seed;
/// `BROOK_SIMULATION_SEED=<seed> swift test --filter RaftSimulationTests` replays it exactly,
/// and `BROOK_SIMULATION_SEEDS=<n>` runs seeds 1...n instead of the usual 60 (`make chaos`
/// runs thousands).
@Suite struct RaftSimulationTests {
    static let seeds: [UInt64] = {
        let environment = ProcessInfo.processInfo.environment
        if let replay = environment["BROOK_SIMULATION_SEED"].flatMap(UInt64.init) { return [replay] }
        return Array(1...(environment["BROOK_SIMULATION_SEEDS"].flatMap(UInt64.init) ?? 60))
    }()

    @Test(arguments: seeds)
    func threeVotersAndAnObserverStaySafeAndRecover(seed: UInt64) async {
        let simulation = await onOwnThread {
            var simulation = RaftSimulation(seed: seed, voterCount: 3, observerCount: 1)
            simulation.run(steps: 3000)
            simulation.settle()
            return simulation
        }
        #expect(simulation.failures.isEmpty, Comment(rawValue: simulation.report))
        #expect(simulation.committed.count > 20, "seed \(seed): only \(simulation.committed.count) entries committed")
    }

    @Test(arguments: seeds.prefix(20))
    func fiveVotersStaySafeAndRecover(seed: UInt64) async {
        let simulation = await onOwnThread {
            var simulation = RaftSimulation(seed: seed &+ 1_000_000, voterCount: 5, observerCount: 1)
            simulation.run(steps: 3000)
            simulation.settle()
            return simulation
        }
        #expect(simulation.failures.isEmpty, Comment(rawValue: simulation.report))
    }

    /// Replicas that fall behind a leader's log start do fetch and install its snapshot.
    @Test func laggingReplicasInstallTheLeadersSnapshot() async {
        let installs = await onOwnThread {
            (UInt64(1)...10).map { seed in
                var simulation = RaftSimulation(seed: seed &+ 2_000_000)
                simulation.faults.snapshot = 0.05
                simulation.faults.deletePrefix = 1
                simulation.run(steps: 2000)
                simulation.settle()
                return (simulation.installs, simulation.failures.isEmpty ? nil : simulation.report)
            }
        }
        for (_, report) in installs { #expect(report == nil, Comment(rawValue: report ?? "")) }
        #expect(installs.map(\.0).reduce(0, +) > 0, "no replica installed a snapshot in 10 seeds")
    }

    /// Voters come and go (KIP-853) while faults strike, and the quorum stays safe.
    @Test func votersAddedAndRemovedUnderFaultsStaySafe() async {
        let runs = await onOwnThread {
            (UInt64(1)...10).map { seed in
                var simulation = RaftSimulation(seed: seed &+ 3_000_000, voterCount: 3, observerCount: 2)
                simulation.faults.voterChange = 0.03
                simulation.run(steps: 3000)
                simulation.settle()
                return (simulation.committedVoterChanges, simulation.failures.isEmpty ? nil : simulation.report)
            }
        }
        for (_, report) in runs { #expect(report == nil, Comment(rawValue: report ?? "")) }
        #expect(runs.map(\.0).reduce(0, +) >= 10, "voter changes committed: \(runs.map(\.0))")
    }

    /// The checks are not vacuous: a disk that loses flushed entries is caught within a few
    /// seeds.
    @Test func aDiskThatLosesFlushedEntriesIsCaught() async {
        let caught = await onOwnThread {
            (UInt64(1)...20).filter { seed in
                var simulation = RaftSimulation(seed: seed)
                simulation.faults.crash = 0.02
                simulation.faults.diskLosesFlushedEntries = true
                simulation.run(steps: 1500)
                return !simulation.failures.isEmpty
            }
        }
        #expect(!caught.isEmpty)
    }
}

/// Runs `work` on a thread of its own: a long simulation must not hold one of the cooperative
/// pool's few threads, which the suite's async tests need.
func onOwnThread<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}
