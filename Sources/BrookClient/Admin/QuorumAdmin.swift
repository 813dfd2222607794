import BrookProtocol
import Foundation

/// What DescribeQuorum reports about the metadata quorum (KIP-595), as kafka-metadata-quorum
/// prints it.
public struct QuorumDescription: Sendable, Equatable {
    public struct Replica: Sendable, Equatable {
        public var id: Int32
        public var logEndOffset: Int64
        public var lastFetchTimestamp: Int64
        public var lastCaughtUpTimestamp: Int64
    }

    public var clusterId: String?
    public var leaderId: Int32
    public var leaderEpoch: Int32
    public var highWatermark: Int64
    public var voters: [Replica]
    public var observers: [Replica]
}

/// Asks the metadata quorum's leader to describe the quorum.
public enum QuorumAdmin {
    static let topic = "__cluster_metadata"

    /// Asks each of `bootstrapServers` (host:port, comma-separated) in turn, until the quorum's
    /// leader answers; the others answer NOT_LEADER_OR_FOLLOWER.
    public static func describe(bootstrapServers: String, clientId: String = "brook-admin") async throws -> QuorumDescription {
        var failures: [String] = []
        for server in bootstrapServers.split(separator: ",") {
            let trimmed = server.trimmingCharacters(in: .whitespaces)
            guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]) else {
                throw ClientError.notFound("bootstrap server '\(trimmed)' is not host:port")
            }
            let host = String(trimmed[..<colon])
            do {
                let connection = try await BrokerConnection.connect(host: host, port: port, clientId: clientId)
                defer { Task { await connection.close() } }
                let response = try await connection.send(DescribeQuorumRequest(topics: [
                    DescribeQuorumRequest.TopicData(topicName: topic, partitions: [DescribeQuorumRequest.PartitionData(partitionIndex: 0)])
                ]))
                guard response.errorCode == 0 else {
                    failures.append("\(trimmed): \(ErrorCode(rawValue: response.errorCode).map(String.init(describing:)) ?? String(response.errorCode))")
                    continue
                }
                guard let partition = response.topics.first?.partitions.first else {
                    failures.append("\(trimmed): no quorum partition in the answer")
                    continue
                }
                guard partition.errorCode == 0 else {
                    failures.append("\(trimmed): \(partition.errorMessage ?? String(partition.errorCode))")
                    continue
                }
                let metadata = try? await connection.send(MetadataRequest(topics: []))
                func replica(_ state: DescribeQuorumResponse.ReplicaState) -> QuorumDescription.Replica {
                    .init(id: state.replicaId, logEndOffset: state.logEndOffset, lastFetchTimestamp: state.lastFetchTimestamp, lastCaughtUpTimestamp: state.lastCaughtUpTimestamp)
                }
                return QuorumDescription(
                    clusterId: metadata?.clusterId, leaderId: partition.leaderId, leaderEpoch: partition.leaderEpoch,
                    highWatermark: partition.highWatermark, voters: partition.currentVoters.map(replica),
                    observers: partition.observers.map(replica)
                )
            } catch {
                failures.append("\(trimmed): \(error)")
            }
        }
        throw ClientError.notFound("no metadata quorum leader among \(bootstrapServers): \(failures.joined(separator: "; "))")
    }

    /// AddRaftVoter (KIP-853): asks the quorum, through the first of `bootstrapServers` that
    /// answers (it hands the request to the leader), to add controller `id` at `host:port`.
    /// Returns once the new voter set is committed; throws the quorum's error otherwise.
    public static func addVoter(
        bootstrapServers: String, id: Int32, directoryId: Uuid, host: String, port: Int, timeoutMs: Int32 = 30_000,
        clientId: String = "brook-admin"
    ) async throws {
        let request = AddRaftVoterRequest(
            timeoutMs: timeoutMs, voterId: id, voterDirectoryId: directoryId,
            listeners: [.init(name: "CONTROLLER", host: host, port: UInt16(clamping: port))])
        let response = try await firstAnswer(bootstrapServers: bootstrapServers, clientId: clientId) { try await $0.send(request) }
        guard response.errorCode == 0 else {
            throw ClientError.broker(ErrorCode(rawValue: response.errorCode) ?? .unknownServerError, response.errorMessage)
        }
    }

    /// RemoveRaftVoter (KIP-853): asks the quorum to remove voter `id` (with `directoryId`, or
    /// any when zero).
    public static func removeVoter(
        bootstrapServers: String, id: Int32, directoryId: Uuid, clientId: String = "brook-admin"
    ) async throws {
        let request = RemoveRaftVoterRequest(voterId: id, voterDirectoryId: directoryId)
        let response = try await firstAnswer(bootstrapServers: bootstrapServers, clientId: clientId) { try await $0.send(request) }
        guard response.errorCode == 0 else {
            throw ClientError.broker(ErrorCode(rawValue: response.errorCode) ?? .unknownServerError, response.errorMessage)
        }
    }

    /// `body`'s answer from the first of `bootstrapServers` that can be reached.
    static func firstAnswer<Answer: Sendable>(
        bootstrapServers: String, clientId: String, _ body: @Sendable (BrokerConnection) async throws -> Answer
    ) async throws -> Answer {
        var failures: [String] = []
        for server in bootstrapServers.split(separator: ",") {
            let trimmed = server.trimmingCharacters(in: .whitespaces)
            guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]) else {
                throw ClientError.notFound("bootstrap server '\(trimmed)' is not host:port")
            }
            do {
                let connection = try await BrokerConnection.connect(host: String(trimmed[..<colon]), port: port, clientId: clientId)
                defer { Task { await connection.close() } }
                return try await body(connection)
            } catch let error as ClientError where error.isConnectionFailure {
                failures.append("\(trimmed): \(error)")
            }
        }
        throw ClientError.notFound("no server among \(bootstrapServers) could be reached: \(failures.joined(separator: "; "))")
    }
}
