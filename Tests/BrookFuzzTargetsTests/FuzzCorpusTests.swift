import BrookFuzzTargets
import BrookRecords
import Foundation
import NIOCore
import Testing

/// Replays the committed seed corpora and the inputs the fuzzer once crashed on through the fuzz
/// targets: each input is either decoded, and then passes the target's checks (a decoded message
/// re-encodes and decodes to the same bytes, the record readers agree with each other, a broker
/// response decodes with the request's correlation id), or rejected with an error. A trap would
/// end the test process.
///
/// `make fuzz` grows the corpora; `make fuzz-seeds` rebuilds the seeds from the client fixtures.
@Suite struct FuzzCorpusTests {
    struct Input: CustomStringConvertible, Sendable {
        let target: String
        let path: String
        let bytes: [UInt8]
        var description: String { path }
    }

    /// Every file under `folder/<target>/`, by target.
    static func inputs(in folder: String) -> [String: [Input]] {
        guard let root = Bundle.module.url(forResource: folder, withExtension: nil) else { return [:] }
        var result: [String: [Input]] = [:]
        for target in FuzzTarget.all {
            let directory = root.appendingPathComponent(target.name)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            result[target.name] = files.sorted().filter { !$0.hasPrefix(".") }.compactMap { file in
                FileManager.default.contents(atPath: directory.appendingPathComponent(file).path).map {
                    Input(target: target.name, path: "\(folder)/\(target.name)/\(file)", bytes: Array($0))
                }
            }
        }
        return result
    }

    static let corpus = inputs(in: "Corpus")
    static let regressions = inputs(in: "Regressions")

    /// Runs the target over `inputs` on a thread of its own and returns each outcome. The broker
    /// target waits for an in-process broker that works on the cooperative pool: waiting on a
    /// pool thread (as a test body runs on) could starve it.
    static func replay(_ name: String, _ inputs: [[UInt8]]) async throws -> [FuzzOutcome] {
        let target = try #require(FuzzTarget.named(name))
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try inputs.map { try target($0) } })
            }.start()
        }
    }

    @Test(arguments: FuzzTarget.all.map(\.name))
    func seedCorpusIsDecodedAndPassesTheChecks(_ name: String) async throws {
        let seeds = Self.corpus[name] ?? []
        #expect(seeds.count >= 5, "\(name) has \(seeds.count) seeds")
        let outcomes = try await Self.replay(name, seeds.map(\.bytes))
        for (seed, outcome) in zip(seeds, outcomes) {
            // The seeds are valid inputs written by real clients or Brook's encoders; only the
            // request target's bodies of zeros may be rejected.
            if !seed.path.contains("/zeros-") {
                #expect(outcome == .accepted, "\(seed) was rejected")
            }
        }
    }

    @Test(arguments: FuzzTarget.all.map(\.name))
    func crashRegressionsAreDecodedOrRejected(_ name: String) async throws {
        _ = try await Self.replay(name, (Self.regressions[name] ?? []).map(\.bytes))
    }

    /// Mutations of the seeds, a few per seed, as a smoke test that needs no fuzzer: truncations
    /// and single-byte changes decode or are rejected, never trap, and pass the checks.
    @Test(arguments: FuzzTarget.all.map(\.name).filter { $0 != "broker" })
    func truncatedAndFlippedSeedsAreDecodedOrRejected(_ name: String) async throws {
        var mutations: [[UInt8]] = []
        for seed in Self.corpus[name] ?? [] where !seed.bytes.isEmpty {
            for cut in [1, 2, seed.bytes.count / 2, seed.bytes.count - 1] where cut > 0 && cut < seed.bytes.count {
                mutations.append(Array(seed.bytes.prefix(cut)))
            }
            for position in stride(from: 0, to: seed.bytes.count, by: max(1, seed.bytes.count / 16)) {
                var flipped = seed.bytes
                flipped[position] ^= 0xFF
                mutations.append(flipped)
            }
        }
        let rejected = try await Self.replay(name, mutations).filter { $0 == .rejected }.count
        #expect(rejected > 0, "no mutation of the \(name) seeds was rejected")
    }
}
