import ArgumentParser
import BrookClient
import BrookModel
import Foundation

/// `brook delete-records`: kafka-delete-records.sh. Reads
/// `{"partitions": [{"topic": "t", "partition": 0, "offset": 4}], "version": 1}` (offset -1
/// meaning the high watermark), deletes the records before each offset and prints Kafka's report:
///
///     Executing records delete operation
///     Records delete operation completed:
///     partition: t-0	low_watermark: 4
///
/// A partition that fails prints `partition: t-1	error: OFFSET_OUT_OF_RANGE: ...` instead, and
/// then the command exits with status 1 (Kafka's exits 0).
struct DeleteRecordsCommand: AsyncParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        commandName: "delete-records", abstract: "Delete the records of partitions before given offsets."
    )

    @OptionGroup var connection: AdminOptions
    @Option(name: .customLong("offset-json-file"), help: #"The offsets: {"partitions": [{"topic": "foo", "partition": 1, "offset": 1}], "version": 1}"#)
    var offsetJsonFile: String

    /// The offset file's layout.
    private struct OffsetFile: Decodable {
        struct Entry: Decodable {
            var topic: String
            var partition: Int32
            var offset: Int64
        }

        var version: Int?
        var partitions: [Entry]
    }

    func run() async throws {
        let offsets = try Self.read(offsetJsonFile)
        print("Executing records delete operation")
        let results = try await connection.withCluster { try await RecordAdmin(cluster: $0).deleteRecords(before: offsets) }
        print("Records delete operation completed:")
        var failed = false
        for partition in results.keys.sorted(by: { ($0.topic, $0.partition) < ($1.topic, $1.partition) }) {
            switch results[partition] {
            case .success(let lowWatermark):
                print("partition: \(partition)\tlow_watermark: \(lowWatermark)")
            case .failure(let error):
                failed = true
                print("partition: \(partition)\terror: \(CommandFailure(describing: error, bootstrapServers: connection.bootstrapServer))")
            case nil:
                break
            }
        }
        if failed { throw ExitCode.failure }
    }

    /// The offsets the file asks for; throws ``CommandFailure`` for an unreadable or malformed
    /// file, an unsupported version, or a partition named twice.
    static func read(_ path: String) throws -> [TopicPartition: Int64] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("cannot read \(path)") }
        let file: OffsetFile
        do {
            file = try JSONDecoder().decode(OffsetFile.self, from: data)
        } catch {
            throw CommandFailure("\(path) is not an offset JSON file like {\"partitions\": [{\"topic\": \"foo\", \"partition\": 1, \"offset\": 1}], \"version\": 1}")
        }
        guard (file.version ?? 1) == 1 else { throw CommandFailure("Not supported version field value \(file.version ?? 0)") }
        var offsets: [TopicPartition: Int64] = [:]
        var duplicates: [String] = []
        for entry in file.partitions {
            let partition = TopicPartition(topic: entry.topic, partition: entry.partition)
            if offsets[partition] != nil { duplicates.append(partition.description) }
            offsets[partition] = entry.offset
        }
        guard duplicates.isEmpty else {
            throw CommandFailure("Offset json file contains duplicate topic partitions: \(duplicates.joined(separator: ","))")
        }
        return offsets
    }
}
