import ArgumentParser
import BrookClient
import Foundation

/// `brook metadata-quorum describe --bootstrap-server H:P[,H:P] --status | --replication`, as
/// kafka-metadata-quorum prints them. The servers are asked in turn until the quorum's leader
/// answers.
struct MetadataQuorumCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metadata-quorum",
        abstract: "Describe the KRaft metadata quorum.",
        subcommands: [Describe.self]
    )

    struct Describe: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(
            commandName: "describe", abstract: "Print the quorum's status or each replica's replication.")

        @OptionGroup var connection: AdminOptions
        @Flag(help: "The leader, epoch, high watermark, lag and members.") var status = false
        @Flag(help: "Each voter's and observer's log end offset, lag and fetch times.") var replication = false

        func validate() throws {
            guard status != replication else { throw ValidationError("give one of --status and --replication") }
        }

        func run() async throws {
            let servers = connection.bootstrapServer
            let quorum: QuorumDescription
            do {
                quorum = try await QuorumAdmin.describe(bootstrapServers: servers)
            } catch {
                throw CommandFailure(describing: error, bootstrapServers: servers)
            }
            if status { printStatus(quorum) } else { printReplication(quorum) }
        }

        func printStatus(_ quorum: QuorumDescription) {
            let followers = quorum.voters.filter { $0.id != quorum.leaderId }
            let leader = quorum.voters.first { $0.id == quorum.leaderId }
            let maxLag = followers.map { max(0, quorum.highWatermark - $0.logEndOffset) }.max() ?? 0
            let maxLagTime = followers.map { follower -> Int64 in
                guard let leader, follower.lastCaughtUpTimestamp >= 0 else { return 0 }
                return max(0, leader.lastCaughtUpTimestamp - follower.lastCaughtUpTimestamp)
            }.max() ?? 0
            let lines: [(String, String)] = [
                ("ClusterId", quorum.clusterId ?? ""),
                ("LeaderId", String(quorum.leaderId)),
                ("LeaderEpoch", String(quorum.leaderEpoch)),
                ("HighWatermark", String(quorum.highWatermark)),
                ("MaxFollowerLag", String(maxLag)),
                ("MaxFollowerLagTimeMs", String(maxLagTime)),
                ("CurrentVoters", "[" + quorum.voters.map { String($0.id) }.joined(separator: ",") + "]"),
                ("CurrentObservers", "[" + quorum.observers.map { String($0.id) }.joined(separator: ",") + "]"),
            ]
            for (key, value) in lines {
                print((key + ":").padding(toLength: 24, withPad: " ", startingAt: 0) + value)
            }
        }

        func printReplication(_ quorum: QuorumDescription) {
            let members = quorum.voters.map { ($0, true) } + quorum.observers.map { ($0, false) }
            let rows = members.map { member -> [String] in
                let (replica, voter) = member
                let status = replica.id == quorum.leaderId ? "Leader" : voter ? "Follower" : "Observer"
                let lag = max(0, quorum.highWatermark - replica.logEndOffset)
                return [
                    String(replica.id), String(replica.logEndOffset), String(lag),
                    String(replica.lastFetchTimestamp), String(replica.lastCaughtUpTimestamp), status,
                ]
            }
            print(TextTable(header: ["NodeId", "LogEndOffset", "Lag", "LastFetchTimestamp", "LastCaughtUpTimestamp", "Status"], rows: rows).rendered)
        }
    }
}
