import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import Foundation
import NIOCore

/// A voter of the metadata quorum: its node id, the id of the directory holding its metadata
/// log (KIP-853 tells a replaced disk from the old one by it; zero when unknown) and the
/// controller endpoint other nodes reach it on.
package struct QuorumVoter: Sendable, Equatable, CustomStringConvertible {
    package var id: BrokerID
    package var host: String
    package var port: Int
    package var directoryId: Uuid = .zero

    package init(id: BrokerID, host: String, port: Int, directoryId: Uuid = .zero) {
        self.id = id
        self.host = host
        self.port = port
        self.directoryId = directoryId
    }

    package var description: String { "\(id)@\(host):\(port)" }

    /// Parses Kafka's `controller.quorum.voters` (`id@host:port`, comma-separated) or
    /// `kafka-storage format --initial-controllers` (`id@host:port:directoryId`).
    static func parse(_ text: String, option: String = "controller.quorum.voters") throws -> [QuorumVoter] {
        let voters = try text.split(separator: ",").map { entry -> QuorumVoter in
            let entry = entry.trimmingCharacters(in: .whitespaces)
            var address = Substring(entry)
            var directoryId = Uuid.zero
            // A trailing `:directoryId` (base64 of 22 characters) follows the port.
            if let last = entry.lastIndex(of: ":"), let port = entry[..<last].lastIndex(of: ":"),
                Int(entry[entry.index(after: port)..<last]) != nil
            {
                guard let id = KafkaUUID(entry[entry.index(after: last)...]) else {
                    throw QuorumError("\(option) entry '\(entry)' has a directory id that is not a Kafka UUID")
                }
                directoryId = Uuid(mostSignificantBits: id.mostSignificantBits, leastSignificantBits: id.leastSignificantBits)
                address = entry[..<last]
            }
            guard let at = address.firstIndex(of: "@"), let colon = address.lastIndex(of: ":"), at < colon,
                let id = Int32(address[..<at]), id >= 0,
                let port = Int(address[address.index(after: colon)...]), (0...65_535).contains(port)
            else {
                throw QuorumError("\(option) entry '\(entry)' is not id@host:port")
            }
            var host = String(address[address.index(after: at)..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return QuorumVoter(id: BrokerID(id), host: host, port: port, directoryId: directoryId)
        }
        guard !voters.isEmpty else { throw QuorumError("\(option) lists no voter") }
        let ids = voters.map { $0.id }
        guard Set(ids).count == ids.count else {
            throw QuorumError("\(option) names a node id twice: \(text)")
        }
        return voters
    }
}

/// KIP-853's records of the voter set in `__cluster_metadata` and its snapshots: a control batch
/// holding a VotersRecord (with a KRaftVersionRecord of version 1 before it in snapshots).
enum QuorumVoterRecords {
    /// The listener name voters' endpoints carry.
    static let listenerName = "CONTROLLER"

    /// A control batch of the voter set `voters`, written in `epoch`.
    static func batch(_ voters: [QuorumVoter], epoch: Int32, withVersion: Bool = false, timestamp: Int64) throws -> ByteBuffer {
        var configuration = RecordBatchBuilder.Configuration()
        configuration.isControlBatch = true
        configuration.partitionLeaderEpoch = epoch
        var builder = RecordBatchBuilder(configuration: configuration)
        if withVersion {
            var value = ByteBuffer()
            try KRaftVersionRecord(version: 0, kRaftVersion: 1).write(to: &value, version: 0)
            builder.append(timestamp: timestamp, key: ControlRecordKey(type: .kraftVersion).encoded(), value: value)
        }
        var value = ByteBuffer()
        try record(voters).write(to: &value, version: 0)
        builder.append(timestamp: timestamp, key: ControlRecordKey(type: .kraftVoters).encoded(), value: value)
        return try builder.build()
    }

    static func record(_ voters: [QuorumVoter]) -> VotersRecord {
        VotersRecord(version: 0, voters: voters.sorted { $0.id < $1.id }.map { voter in
            VotersRecord.Voter(
                voterId: voter.id.rawValue, voterDirectoryId: voter.directoryId,
                endpoints: [.init(name: listenerName, host: voter.host, port: UInt16(clamping: voter.port))],
                kRaftVersionFeature: .init(minSupportedVersion: 0, maxSupportedVersion: 1))
        })
    }

    /// The voter set a batch records, or nil when it is not a voters control batch.
    static func voters(in batch: RecordBatch) -> [QuorumVoter]? {
        guard batch.isControlBatch, let records = try? batch.records() else { return nil }
        for record in records {
            guard let key = record.key, (try? ControlRecordKey(decoding: key))?.type == .kraftVoters,
                var value = record.value, let decoded = try? VotersRecord(from: &value, version: 0)
            else { continue }
            return decoded.voters.map { voter in
                let endpoint = voter.endpoints.first
                return QuorumVoter(
                    id: BrokerID(voter.voterId), host: endpoint?.host ?? "", port: Int(endpoint?.port ?? 0),
                    directoryId: voter.voterDirectoryId)
            }
        }
        return nil
    }

    /// The voter set in an entry's payload (a record batch), if it records one.
    static func voters(inPayload payload: ByteBuffer) -> [QuorumVoter]? {
        guard let batch = try? RecordBatch(payload) else { return nil }
        return voters(in: batch)
    }
}
