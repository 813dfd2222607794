import BrookBroker
import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookRecords
import Foundation
import NIOCore

/// The seed corpora, built from the captured client fixtures and from Brook's own encoders:
/// `brook-fuzz --write-seeds` writes them to Tests/BrookFuzzTargetsTests/Corpus (`make
/// fuzz-seeds`), where they are committed.
public enum FuzzSeeds {
    public typealias Seed = (name: String, bytes: [UInt8])

    /// Every target's seeds, by target name.
    ///
    /// - Parameters:
    ///   - requests: Tests/BrookProtocolTests/Fixtures/requests (captured frames and manifest.json).
    ///   - records: Tests/BrookRecordsTests/Fixtures (captured batches and compressed samples).
    public static func all(requests: URL, records: URL) throws -> [String: [Seed]] {
        let captures = try Capture.load(from: requests)
        return [
            FuzzTarget.frames.name: frames(captures),
            FuzzTarget.request.name: request(captures),
            FuzzTarget.broker.name: broker(captures),
            FuzzTarget.recordBatch.name: try recordBatches(records),
            FuzzTarget.messageSet.name: try messageSets(),
            FuzzTarget.decompress.name: try decompression(records),
            FuzzTarget.coordinatorRecord.name: try coordinatorRecords(),
            FuzzTarget.metadataRecord.name: try metadataRecords(),
            FuzzTarget.quorum.name: try quorum(),
            FuzzTarget.metadataImage.name: try metadataImage(),
            FuzzTarget.saslToken.name: saslTokens(),
        ]
    }

    struct Capture {
        var file: String
        var api: String
        var version: Int16
        var scenario: String
        var client: String
        var correlationId: Int32
        var frame: [UInt8]

        var framed: [UInt8] { withUnsafeBytes(of: UInt32(frame.count).bigEndian, Array.init) + frame }

        private struct Entry: Decodable {
            let file: String
            let api_name: String
            let api_version: Int16
            let scenario: String
            let client: String
            let correlation_id: Int32
        }

        static func load(from root: URL) throws -> [Capture] {
            let manifest = try JSONDecoder().decode(
                [Entry].self, from: Data(contentsOf: root.appendingPathComponent("manifest.json")))
            return try manifest.map { entry in
                Capture(
                    file: entry.file, api: entry.api_name, version: entry.api_version, scenario: entry.scenario,
                    client: entry.client, correlationId: entry.correlation_id,
                    frame: Array(try Data(contentsOf: root.appendingPathComponent(entry.file))))
            }
        }
    }

    /// One capture per API and version.
    private static func distinct(_ captures: [Capture]) -> [Capture] {
        var seen = Set<String>()
        return captures.filter { seen.insert("\($0.api)-\($0.version)").inserted }
    }

    private static func seedName(_ capture: Capture) -> String {
        capture.file.replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: ".bin", with: "")
    }

    /// Each client's requests of one scenario, in the order sent.
    private static func sessions(_ captures: [Capture]) -> [Seed] {
        let grouped = Dictionary(grouping: captures) { "\($0.client)-\($0.scenario)" }
        return grouped.keys.sorted().map { key in
            let frames = grouped[key]!.sorted { $0.correlationId < $1.correlationId }
            return ("session-\(key)", frames.flatMap(\.framed))
        }
    }

    static func frames(_ captures: [Capture]) -> [Seed] {
        distinct(captures).map { (seedName($0), $0.framed) }
            + sessions(captures).filter { $0.name.hasPrefix("session-kcat") }
    }

    static func request(_ captures: [Capture]) -> [Seed] {
        let apis = ApiKey.allCases
        var seeds: [Seed] = distinct(captures).compactMap { capture in
            guard let frame = try? RequestFrame(frame: ByteBuffer(bytes: capture.frame)),
                  let api = frame.apiKey, let index = apis.firstIndex(of: api) else { return nil }
            let version = UInt8(frame.apiVersion - api.validVersions.lowerBound)
            return (seedName(capture), [UInt8(index), version] + Array(frame.body.readableBytesView))
        }
        // Every API at its highest version, with a body of zeros (empty arrays and strings).
        for (index, api) in apis.enumerated() {
            let version = UInt8(api.validVersions.count - 1)
            seeds.append(("zeros-\(api.name)-v\(version)", [UInt8(index), version] + Array(repeating: 0, count: 24)))
        }
        return seeds
    }

    static func broker(_ captures: [Capture]) -> [Seed] {
        sessions(captures) + distinct(captures).map { (seedName($0), $0.framed) }
    }

    static func recordBatches(_ records: URL) throws -> [Seed] {
        let folder = records.appendingPathComponent("captured")
        var seeds: [Seed] = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            .filter { $0.hasSuffix(".bin") }
            .map { ("captured-" + $0.dropLast(4), Array(try Data(contentsOf: folder.appendingPathComponent($0)))) }
        for codec in CompressionCodec.allCases {
            var configuration = RecordBatchBuilder.Configuration(baseOffset: 5, compression: codec)
            configuration.timestampType = codec == .zstd ? .logAppendTime : .createTime
            var builder = RecordBatchBuilder(configuration: configuration)
            builder.append(timestamp: 1_700_000_000_000, key: ByteBuffer(string: "k"), value: ByteBuffer(string: "v"),
                           headers: [.init(key: "h", value: ByteBuffer(string: "x")), .init(key: "n", value: nil)])
            builder.append(timestamp: 1_700_000_000_007, key: nil, value: nil)
            seeds.append(("built-\(codec)", Array(try builder.build().readableBytesView)))
        }
        for type in [ControlRecordType.commit, .abort] {
            let marker = try RecordBatchBuilder.endTransactionMarkerBatch(
                type, producerId: 7, producerEpoch: 1, coordinatorEpoch: 3, timestamp: 1_700_000_000_000, baseOffset: 9)
            seeds.append(("marker-\(type)", Array(marker.readableBytesView)))
        }
        return seeds
    }

    static func messageSets() throws -> [Seed] {
        var seeds: [Seed] = []
        for magic: Int8 in [0, 1] {
            var plain = ByteBuffer()
            MessageSetWriter.write(offset: 0, magic: magic, timestamp: 1_700_000_000_000,
                                   key: ByteBuffer(string: "k1"), value: ByteBuffer(string: "v1"), to: &plain)
            MessageSetWriter.write(offset: 1, magic: magic, timestamp: 1_700_000_000_001, key: nil,
                                   value: ByteBuffer(string: "no key"), to: &plain)
            MessageSetWriter.write(offset: 4, magic: magic, timestamp: 1_700_000_000_002,
                                   key: ByteBuffer(string: "k3"), value: nil, to: &plain)
            seeds.append(("plain-magic\(magic)", [1] + Array(plain.readableBytesView)))
            for codec in [CompressionCodec.gzip, .snappy, .lz4] {
                var inner = ByteBuffer()
                for offset in 0..<3 {
                    MessageSetWriter.write(offset: magic == 1 ? Int64(offset) : Int64(10 + offset), magic: magic,
                                           timestamp: 1_700_000_000_000, key: ByteBuffer(string: "k\(offset)"),
                                           value: ByteBuffer(string: "value \(offset)"), to: &inner)
                }
                var wrapped = ByteBuffer()
                try MessageSetWriter.writeWrapper(offset: 12, magic: magic, codec: codec, timestamp: 1_700_000_000_003,
                                                  logAppendTime: magic == 1 && codec == .lz4, inner: inner, to: &wrapped)
                seeds.append(("\(codec)-magic\(magic)", [1] + Array(wrapped.readableBytesView)))
            }
        }
        return seeds
    }

    static func decompression(_ records: URL) throws -> [Seed] {
        let codecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]
        let folder = records.appendingPathComponent("compression")
        let files: [(String, CompressionCodec)] = [
            ("sample.json.gz", .gzip), ("sample.json.multi.gz", .gzip), ("sample.json.lz4", .lz4),
            ("sample.json.zst", .zstd), ("sample.json.nosize.zst", .zstd),
        ]
        var seeds: [Seed] = try files.map { file, codec in
            (file, [UInt8(codecs.firstIndex(of: codec)!)] + Array(try Data(contentsOf: folder.appendingPathComponent(file))))
        }
        let sample = ByteBuffer(bytes: Array(try Data(contentsOf: folder.appendingPathComponent("sample.json")).prefix(2048)))
        for (index, codec) in codecs.enumerated() {
            seeds.append(("brook-\(codec)", [UInt8(index)] + Array(try codec.compress(sample).readableBytesView)))
        }
        // The records sections of captured compressed batches (xerial snappy from Java-style clients).
        let captured = records.appendingPathComponent("captured")
        for file in try FileManager.default.contentsOfDirectory(atPath: captured.path).sorted() where file.hasSuffix(".bin") {
            guard let batch = try RecordBatchReader.batches(
                in: ByteBuffer(bytes: Array(try Data(contentsOf: captured.appendingPathComponent(file))))).first,
                  let codec = batch.compression, let index = codecs.firstIndex(of: codec) else { continue }
            seeds.append(("section-" + file.dropLast(4), [UInt8(index)] + Array(batch.recordsSection.readableBytesView)))
        }
        return seeds
    }

    /// `[key length u16][key][has value][value]`, the coordinator-record target's layout.
    static func coordinatorLayout(_ key: ByteBuffer, _ value: ByteBuffer?) -> [UInt8] {
        var bytes = [UInt8(key.readableBytes >> 8), UInt8(key.readableBytes & 0xFF)] + Array(key.readableBytesView)
        bytes.append(value == nil ? 0 : 1)
        if let value { bytes += Array(value.readableBytesView) }
        return bytes
    }

    static func coordinatorRecords() throws -> [Seed] {
        let partition = TopicPartition(topic: "orders", partition: 3)
        let records: [(String, CoordinatorRecord)] = [
            ("offset-v3", .offsetCommit(group: "g", partition: partition, CommittedOffset(
                offset: 42, leaderEpoch: 5, metadata: "meta", commitTimestamp: 1_700_000_000_000))),
            ("offset-v1-expiring", .offsetCommit(group: "g", partition: partition, CommittedOffset(
                offset: 42, metadata: "", commitTimestamp: 1_700_000_000_000, expireTimestamp: 1_700_000_600_000))),
            ("offset-tombstone", .offsetCommit(group: "g", partition: partition, nil)),
            ("group", .groupMetadata(group: "g", GroupMetadataValue(
                protocolType: "consumer", generation: 3, protocol: "range", leader: "m-1",
                currentStateTimestamp: 1_700_000_000_000, members: [.init(
                    memberId: "m-1", groupInstanceId: "i-1", clientId: "c", clientHost: "/127.0.0.1",
                    rebalanceTimeout: 300_000, sessionTimeout: 45_000,
                    subscription: ByteBuffer(bytes: [0, 1, 0, 0, 0, 1, 0, 6] + Array("orders".utf8) + [0, 0, 0, 0]),
                    assignment: ByteBuffer(bytes: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]))]))),
            ("group-tombstone", .groupMetadata(group: "g", nil)),
            ("consumer-group", .consumerGroup(.metadata(group: "g", ConsumerGroupMetadataValue(epoch: 4)))),
        ]
        var seeds: [Seed] = try records.map { name, record in
            let (key, value) = try record.encode()
            return (name, coordinatorLayout(key, value))
        }
        for state in [TransactionState.empty, .ongoing, .prepareCommit, .completeAbort] {
            var metadata = TransactionMetadata(
                transactionalId: "tx", producerId: 1000, producerEpoch: 2, timeoutMs: 60_000, state: state,
                lastUpdateTimestamp: 1_700_000_000_000)
            if state != .empty { metadata.partitions = [partition, TopicPartition(topic: "orders", partition: 4)] }
            let (key, value) = try TransactionRecord.encode(transactionalId: "tx", metadata)
            seeds.append(("transaction-\(state)", coordinatorLayout(key, value)))
        }
        let (key, value) = try TransactionRecord.encode(transactionalId: "tx", nil)
        seeds.append(("transaction-tombstone", coordinatorLayout(key, value)))
        return seeds
    }

    static func metadataRecords() throws -> [Seed] {
        let topicId = Uuid(mostSignificantBits: 0x0123_4567_89AB_CDEF, leastSignificantBits: 0xFEDC_BA98_7654_3210)
        let records: [(String, MetadataRecord)] = [
            ("topic", .topic(TopicRecord(name: "orders", topicId: topicId))),
            ("partition", .partition(PartitionRecord(
                partitionId: 2, topicId: topicId, replicas: [1], isr: [1], leader: 1, leaderEpoch: 3, partitionEpoch: 4))),
            ("config", .config(ConfigRecord(resourceType: 2, resourceName: "orders", name: "cleanup.policy", value: "compact"))),
            ("config-delete", .config(ConfigRecord(resourceType: 4, resourceName: "1", name: "log.retention.ms", value: nil))),
            ("remove-topic", .removeTopic(RemoveTopicRecord(topicId: topicId))),
            ("producer-ids", .producerIds(ProducerIdsRecord(brokerId: 1, brokerEpoch: 5, nextProducerId: 5000))),
            ("user-scram-credential", .userScramCredential(UserScramCredentialRecord(
                name: "alice", mechanism: 1, salt: ByteBuffer(bytes: [1, 2, 3]), storedKey: ByteBuffer(bytes: [4, 5]),
                serverKey: ByteBuffer(bytes: [6]), iterations: 4096))),
            ("remove-user-scram-credential", .removeUserScramCredential(RemoveUserScramCredentialRecord(name: "alice", mechanism: 2))),
            ("access-control-entry", .accessControlEntry(AccessControlEntryRecord(
                id: topicId, resourceType: 2, resourceName: "orders-", patternType: 4, principal: "User:bob", host: "*",
                operation: 3, permissionType: 3))),
            ("remove-access-control-entry", .removeAccessControlEntry(RemoveAccessControlEntryRecord(id: topicId))),
            ("client-quota", .clientQuota(ClientQuotaRecord(
                entity: [.init(entityType: "user", entityName: "alice"), .init(entityType: "client-id", entityName: nil)],
                key: "producer_byte_rate", value: 1_048_576))),
        ]
        return try records.map { name, record in (name, Array(try record.encoded().readableBytesView)) }
    }

    /// SCRAM messages as librdkafka and the Java client write them.
    static func saslTokens() -> [Seed] {
        [
            ("client-first", [0, 0] + Array("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL".utf8)),
            ("client-first-authzid", [1, 0] + Array("n,a=user,n=user,r=abc,tokenauth=true".utf8)),
            ("client-final", [0, 1] + Array("c=biws,r=clientfuzz,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=".utf8)),
            ("client-final-old-librdkafka", [1, 1] + Array("c=biws,r=clientclientfuzz,p=AAAA".utf8)),
            ("client-final-extension", [0, 1] + Array("c=biws,r=clientfuzz,x=1,p=AAAA".utf8)),
        ]
    }
}
