@testable import BrookBroker
import BrookModel
import BrookStorage
import Foundation
import Testing

@Suite struct StorageFormatTests {
    static func config(_ directory: String, node: Int32 = 1, extra: [String] = []) throws -> BrokerConfig {
        try BrokerConfig(overrides: ["log.dirs=\(directory)/a,\(directory)/b", "node.id=\(node)"] + extra)
    }

    static func withDirectory(_ body: (String) throws -> Void) rethrows {
        let directory = FileManager.default.temporaryDirectory.path + "/brook-storage-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    @Test func aSingleNodeFormatsItselfOnceAndKeepsItsClusterId() throws {
        try Self.withDirectory { directory in
            let first = try StorageFormat.verify(try Self.config(directory), inQuorum: false)
            let again = try StorageFormat.verify(try Self.config(directory), inQuorum: false)
            #expect(first == again)
            for sub in ["a", "b"] {
                #expect(try MetaProperties.read(logDirectory: "\(directory)/\(sub)")?.clusterID == first)
            }
        }
    }

    @Test func aQuorumNodeNeedsFormattedStorageOrAClusterId() throws {
        try Self.withDirectory { directory in
            #expect(throws: StorageFormat.Problem.self) { try StorageFormat.verify(try Self.config(directory), inQuorum: true) }
            let id = KafkaUUID.random()
            let formatted = try StorageFormat.format(try Self.config(directory), clusterId: id, ignoreFormatted: false)
            #expect(formatted == ["\(directory)/a", "\(directory)/b"])
            #expect(try StorageFormat.verify(try Self.config(directory), inQuorum: true) == id)
            #expect(throws: StorageFormat.Problem.self) {
                try StorageFormat.format(try Self.config(directory), clusterId: id, ignoreFormatted: false)
            }
            #expect(throws: StorageFormat.Problem.self) {
                try StorageFormat.format(try Self.config(directory), clusterId: id, ignoreFormatted: true)
            }
        }
    }

    @Test func storageOfAnotherNodeOrClusterIsRefusedAndAnUnformattedDirectoryJoins() throws {
        try Self.withDirectory { directory in
            let id = try StorageFormat.verify(try Self.config(directory), inQuorum: false)
            #expect(throws: StorageFormat.Problem.self) { try StorageFormat.verify(try Self.config(directory, node: 2), inQuorum: false) }
            let other = KafkaUUID.random().description
            #expect(throws: StorageFormat.Problem.self) {
                try StorageFormat.verify(try Self.config(directory, extra: ["cluster.id=\(other)"]), inQuorum: false)
            }
            #expect(throws: StorageFormat.Problem.self) {
                try StorageFormat.verify(try Self.config(directory, extra: ["cluster.id=not-an-id"]), inQuorum: false)
            }
            let grown = try BrokerConfig(overrides: ["log.dirs=\(directory)/a,\(directory)/b,\(directory)/c", "node.id=1"])
            #expect(try StorageFormat.verify(grown, inQuorum: true) == id, "a new directory takes the node's cluster id")
            #expect(try MetaProperties.read(logDirectory: "\(directory)/c")?.clusterID == id)
        }
    }
}
