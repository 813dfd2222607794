import ArgumentParser
import Foundation

/// `brook perf`: measurements of Brook's own parts, printed as one line each.
struct PerfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf",
        abstract: "Measure Brook's storage engine, or a running broker through the Kafka protocol, and print the figures.",
        subcommands: [
            ProducePerf.self, ConsumePerf.self, LogAppendPerf.self, LogReadPerf.self, LogRecoverPerf.self, LogOpenPerf.self,
        ]
    )
}

/// Formats a rate for humans.
enum Rate {
    static func megabytesPerSecond(bytes: Int, seconds: Double) -> String {
        String(format: "%.1f MB/s", Double(bytes) / seconds / 1_000_000)
    }
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
