@testable import BrookBroker
import BrookModel
import BrookRaft
import Foundation
import Testing

@Suite struct QuorumStateFileTests {
    static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "quorum-state-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func writesAndReadsKRaftsFormat() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = QuorumStateFile(directory: directory)
        #expect(try file.read() == nil, "a replica that never ran has no state")
        let state = QuorumState(epoch: LeaderEpoch(3), leader: BrokerID(2), votedFor: BrokerID(2))
        try file.write(state, clusterId: "abc", voters: [BrokerID(3), BrokerID(1), BrokerID(2)])
        #expect(try file.read() == state)
        let text = try String(contentsOfFile: directory + "/quorum-state", encoding: .utf8)
        #expect(text.contains(#""leaderEpoch":3"#) && text.contains(#""currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}]"#))
        #expect(text.contains(#""data_version":0"#))

        try file.write(QuorumState(epoch: LeaderEpoch(4), votedFor: BrokerID(1)), clusterId: "abc", voters: nil)
        #expect(try file.read() == QuorumState(epoch: LeaderEpoch(4), votedFor: BrokerID(1)))
    }

    /// A file written by Kafka itself reads as the same state.
    @Test func readsAFileKafkaWrote() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let kafka = #"{"clusterId":"","leaderId":1,"leaderEpoch":5,"votedId":-1,"appliedOffset":0,"currentVoters":[{"voterId":1},{"voterId":2}],"data_version":0}"#
        try kafka.write(toFile: directory + "/quorum-state", atomically: true, encoding: .utf8)
        #expect(try QuorumStateFile(directory: directory).read() == QuorumState(epoch: LeaderEpoch(5), leader: BrokerID(1)))
    }

    @Test(arguments: [
        "", "{", "not json", #"{"leaderId":1}"#,
        #"{"leaderId":1,"leaderEpoch":-1,"votedId":-1}"#,
        #"{"leaderId":-7,"leaderEpoch":2,"votedId":-1}"#,
        #"{"leaderId":1,"leaderEpoch":2,"votedId":-1,"data_version":9}"#,
    ])
    func aCorruptFileIsRefusedWithItsCause(contents: String) throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try contents.write(toFile: directory + "/quorum-state", atomically: true, encoding: .utf8)
        #expect {
            try QuorumStateFile(directory: directory).read()
        } throws: { error in
            "\(error)".contains("quorum state file") && "\(error)".contains("quorum-state")
        }
    }
}
