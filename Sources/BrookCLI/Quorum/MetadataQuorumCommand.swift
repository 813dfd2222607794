import ArgumentParser
import BrookBroker
import BrookClient
import BrookProtocol
import BrookStorage
import Foundation

/// `brook metadata-quorum describe --bootstrap-server H:P[,H:P] --status | --replication`, as
/// kafka-metadata-quorum prints them. The servers are asked in turn until the quorum's leader
/// answers.
struct MetadataQuorumCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metadata-quorum",
        abstract: "Describe the KRaft metadata quorum, or add and remove controllers of a dynamic one.",
        subcommands: [Describe.self, AddController.self, RemoveController.self]
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

    /// `brook metadata-quorum --bootstrap-server H:P add-controller --command-config F`: adds
    /// the controller that F configures (its node.id, its advertised listener, the directory id
    /// of its metadata log) to the voters, as kafka-metadata-quorum does. The controller must
    /// be running and caught up with the log.
    struct AddController: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(
            commandName: "add-controller", abstract: "Add a running controller to the voters of a dynamic quorum.")

        @OptionGroup var connection: BootstrapOnlyOptions
        @OptionGroup var node: BrokerConfigOptions

        func run() async throws {
            let config = try node.load()
            let endpoint = try StorageFormat.controllerEndpoint(of: config)
            let directory = config.string("metadata.log.dir") ?? config.logDirs[0]
            let directoryId = (try? MetaProperties.read(logDirectory: directory))??.directoryID.map {
                Uuid(mostSignificantBits: $0.mostSignificantBits, leastSignificantBits: $0.leastSignificantBits)
            } ?? .zero
            let servers = connection.bootstrapServer
            let timeout = connection.timeoutMs
            do {
                try await Deadline.run(after: .milliseconds(max(timeout, 1))) {
                    try await QuorumAdmin.addVoter(
                        bootstrapServers: servers, id: config.nodeId, directoryId: directoryId, host: endpoint.host,
                        port: endpoint.port, timeoutMs: Int32(clamping: timeout))
                }
            } catch {
                throw CommandFailure(describing: error, bootstrapServers: servers)
            }
            print("Added controller \(config.nodeId) with directory id \(directoryId) and endpoint \(endpoint.host):\(endpoint.port)")
        }
    }

    /// `brook metadata-quorum --bootstrap-server H:P remove-controller --controller-id N
    /// [--controller-directory-id D]`.
    struct RemoveController: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(
            commandName: "remove-controller", abstract: "Remove a controller from the voters of a dynamic quorum.")

        @OptionGroup var connection: AdminOptions
        @Option(name: [.customShort("i"), .customLong("controller-id")], help: "The id of the controller to remove.")
        var controllerId: Int32
        @Option(name: [.customShort("d"), .customLong("controller-directory-id")], help: "The directory id of the controller to remove.")
        var controllerDirectoryId: String?

        func run() async throws {
            var directoryId = Uuid.zero
            if let text = controllerDirectoryId {
                guard let id = KafkaUUID(text) else { throw ValidationError("--controller-directory-id \(text) is not a Kafka UUID") }
                directoryId = Uuid(mostSignificantBits: id.mostSignificantBits, leastSignificantBits: id.leastSignificantBits)
            }
            let servers = connection.bootstrapServer
            let (id, timeout, directory) = (controllerId, connection.timeoutMs, directoryId)
            do {
                try await Deadline.run(after: .milliseconds(max(timeout, 1))) {
                    try await QuorumAdmin.removeVoter(bootstrapServers: servers, id: id, directoryId: directory)
                }
            } catch {
                throw CommandFailure(describing: error, bootstrapServers: servers)
            }
            print("Removed controller \(controllerId)")
        }
    }
}
