import ArgumentParser
import BrookClient
import BrookModel
import Foundation

extension ClusterCommand {
    /// `brook cluster rebalance`: evens replicas and preferred leaders over the registered
    /// brokers (``RebalancePlan``), so that adding a broker is one command. Prints each
    /// broker's replicas and preferred leaders before and after and the moves as a
    /// kafka-reassign-partitions file; without `--dry-run` it starts the moves, waits for them
    /// (within `--timeout-ms`) and then elects the preferred leaders.
    struct RebalanceCluster: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(
            commandName: "rebalance", abstract: "Even replicas and leaders over the brokers (moves replicas, then elects leaders).")

        @OptionGroup var connection: AdminOptions
        @Flag(name: .customLong("dry-run"), help: "Print the plan without moving anything.") var dryRun = false

        func run() async throws {
            let dryRun = self.dryRun
            let summary = try await connection.withCluster { cluster -> String in
                let description = try await ClusterAdmin(cluster: cluster).describe()
                let brokers = description.brokers.filter { $0.state == .registered }.map { RebalancePlan.Broker(id: $0.id, rack: $0.rack) }
                let topics = try await TopicAdmin(cluster: cluster).describe(try await TopicAdmin(cluster: cluster).list(includeInternal: true).map(\.name))
                var current: [TopicPartition: [Int32]] = [:]
                for topic in topics {
                    for partition in topic.partitions { current[TopicPartition(topic: topic.name, partition: partition.partition)] = partition.replicas }
                }
                let plan = RebalancePlan.compute(brokers: brokers, partitions: current)
                var after = current
                for (key, replicas) in plan.moves { after[key] = replicas }
                var lines = [Self.table(brokers.map(\.id), before: current, after: after)]
                let file = ReassignPartitionsCommand.Assignment(partitions: plan.moves.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }.map {
                    .init(topic: $0.topic, partition: $0.partition, replicas: plan.moves[$0]!, log_dirs: nil)
                })
                lines.append("Proposed partition reassignment configuration\n\(try ReassignPartitionsCommand.json(file))")
                guard !dryRun, !plan.moves.isEmpty else {
                    lines.append(plan.moves.isEmpty ? "The cluster is balanced: nothing to move." : "Dry run: nothing moved.")
                    return lines.joined(separator: "\n")
                }
                let admin = ReassignmentAdmin(cluster: cluster)
                let refused = try await admin.alter(plan.moves.map { ($0.key, Optional($0.value)) })
                guard refused.isEmpty else {
                    throw CommandFailure("the controller refused moves: " + refused.map { "\($0.key.topic)-\($0.key.partition): \($0.value)" }.sorted().joined(separator: "; "))
                }
                while try await !admin.list(Array(plan.moves.keys)).isEmpty {
                    try await Task.sleep(for: .milliseconds(200))
                }
                let notElected = try await admin.electPreferredLeaders(Array(plan.moves.keys))
                lines.append("Moved \(plan.moves.count) partition(s); preferred leaders elected"
                    + (notElected.isEmpty ? "." : " but for \(notElected.keys.map { "\($0.topic)-\($0.partition)" }.sorted().joined(separator: ","))."))
                return lines.joined(separator: "\n")
            }
            print(summary)
        }

        /// Replicas and preferred leaders per broker, before and after.
        static func table(_ brokers: [Int32], before: [TopicPartition: [Int32]], after: [TopicPartition: [Int32]]) -> String {
            func counts(_ assignment: [TopicPartition: [Int32]]) -> (replicas: [Int32: Int], leaders: [Int32: Int]) {
                var replicas: [Int32: Int] = [:]
                var leaders: [Int32: Int] = [:]
                for list in assignment.values {
                    for id in list { replicas[id, default: 0] += 1 }
                    if let first = list.first { leaders[first, default: 0] += 1 }
                }
                return (replicas, leaders)
            }
            let (oldReplicas, oldLeaders) = counts(before)
            let (newReplicas, newLeaders) = counts(after)
            return TextTable(header: ["BROKER-ID", "REPLICAS", "AFTER", "PREFERRED-LEADERS", "AFTER"], rows: brokers.sorted().map {
                [String($0), String(oldReplicas[$0] ?? 0), String(newReplicas[$0] ?? 0), String(oldLeaders[$0] ?? 0), String(newLeaders[$0] ?? 0)]
            }).rendered
        }
    }
}
