import ArgumentParser
import BrookClient
import BrookModel
import Foundation

extension GroupsCommand {
    /// `brook groups reset-offsets`: plans new committed offsets for an inactive group and, with
    /// `--execute`, commits them. Offsets are clamped to each partition's log start and end, as
    /// kafka-consumer-groups does.
    struct ResetOffsets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-offsets", abstract: "Reset a group's committed offsets (dry run unless --execute)."
        )

        @OptionGroup var bootstrap: BootstrapOptions
        @Option(name: .customLong("group"), help: "The group.") var group: String
        @Option(name: .customLong("topic"), help: "A topic, or topic:partition[,partition...] (repeatable).") var topics: [String]
        @Flag(name: .customLong("to-earliest"), help: "Reset to the log start.") var toEarliest = false
        @Flag(name: .customLong("to-latest"), help: "Reset to the log end.") var toLatest = false
        @Option(name: .customLong("to-offset"), help: "Reset to this offset.") var toOffset: Int64?
        @Option(name: .customLong("to-datetime"), help: "Reset to the first offset at or after YYYY-MM-DDTHH:mm:SS.sss[Z|±hh:mm].") var toDatetime: String?
        @Option(name: .customLong("shift-by"), parsing: .unconditional, help: "Move each committed offset by this many (may be negative).") var shiftBy: Int64?
        @Flag(name: .customLong("dry-run"), help: "Only print the plan (the default).") var dryRun = false
        @Flag(name: .customLong("execute"), help: "Commit the new offsets.") var execute = false

        func validate() throws {
            let chosen = [toEarliest, toLatest, toOffset != nil, toDatetime != nil, shiftBy != nil].filter { $0 }.count
            guard chosen == 1 else {
                throw ValidationError("Give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by.")
            }
            guard !(dryRun && execute) else { throw ValidationError("--dry-run and --execute exclude each other.") }
            if let toDatetime, Self.parseDate(toDatetime) == nil {
                throw ValidationError("--to-datetime '\(toDatetime)' is not YYYY-MM-DDTHH:mm:SS.sss with an optional Z or ±hh:mm.")
            }
        }

        func run() async throws {
            if !execute && !dryRun { print("WARN: No action will be performed as the --execute option is missing. Add --execute to commit the new offsets.\n") }
            try await bootstrap.withCluster { cluster in
                let admin = GroupAdmin(cluster: cluster)
                let description = try await admin.describe(group)
                if execute && !["Empty", "Dead"].contains(description.state) {
                    print("Error: Assignments can only be reset if the group '\(group)' is inactive, but the current state is \(description.state).")
                    throw ExitCode.failure
                }
                let lookup = OffsetLookup(cluster: cluster)
                let partitions = try await selectedPartitions(lookup)
                let plan = try await newOffsets(for: partitions, lookup: lookup, admin: admin)
                if execute { try await admin.commitOffsets(group, plan) }
                print(TextTable(header: ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"], rows: partitions.map {
                    [group, $0.topic, String($0.partition), String(plan[$0] ?? -1)]
                }).rendered)
            }
        }

        private func selectedPartitions(_ lookup: OffsetLookup) async throws -> [TopicPartition] {
            var selected: [TopicPartition] = []
            for spec in topics {
                let parts = spec.split(separator: ":", maxSplits: 1)
                let topic = String(parts[0])
                if parts.count == 2 {
                    for index in parts[1].split(separator: ",") {
                        guard let partition = Int32(index) else { throw ValidationError("'\(spec)' names a partition that is not a number.") }
                        selected.append(TopicPartition(topic: topic, partition: partition))
                    }
                } else {
                    selected += try await lookup.partitions(of: [topic])
                }
            }
            return selected
        }

        private func newOffsets(for partitions: [TopicPartition], lookup: OffsetLookup, admin: GroupAdmin) async throws -> [TopicPartition: Int64] {
            let starts = try await lookup.offsets(partitions, .earliest)
            let ends = try await lookup.offsets(partitions, .latest)
            var wanted: [TopicPartition: Int64] = [:]
            if toEarliest {
                wanted = starts
            } else if toLatest {
                wanted = ends
            } else if let toOffset {
                for partition in partitions { wanted[partition] = toOffset }
            } else if let toDatetime, let date = Self.parseDate(toDatetime) {
                let found = try await lookup.offsets(partitions, .timestamp(Int64(date.timeIntervalSince1970 * 1000)))
                for partition in partitions { wanted[partition] = (found[partition] ?? -1) >= 0 ? found[partition]! : ends[partition] ?? 0 }
            } else if let shiftBy {
                let committed = try await admin.committedOffsets(group)
                for partition in partitions { wanted[partition] = (committed[partition] ?? ends[partition] ?? 0) + shiftBy }
            }
            var plan: [TopicPartition: Int64] = [:]
            for partition in partitions {
                let low = starts[partition] ?? 0
                let high = ends[partition] ?? low
                plan[partition] = min(max(wanted[partition] ?? low, low), high)
            }
            return plan
        }

        /// Parses Kafka's datetime form; without a zone the time is local, as Kafka reads it.
        static func parseDate(_ text: String) -> Date? {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            for format in ["yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "yyyy-MM-dd'T'HH:mm:ssXXX", "yyyy-MM-dd'T'HH:mm:ss.SSS", "yyyy-MM-dd'T'HH:mm:ss"] {
                formatter.dateFormat = format
                formatter.timeZone = format.hasSuffix("XXX") ? nil : TimeZone.current
                if let date = formatter.date(from: text) { return date }
            }
            return nil
        }
    }
}
