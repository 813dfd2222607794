import BrookModel
import BrookProtocol
import BrookSecurity
import BrookRecords
import BrookStorage
import Foundation
import NIOCore

/// A snapshot of the metadata image at a committed offset of `__cluster_metadata` (KIP-630):
/// the file `<end offset, 20 digits>-<epoch, 10 digits>.checkpoint` in the metadata log's
/// directory. Its record batches are a control batch with the SnapshotHeaderRecord, batches of
/// the metadata records that rebuild the image (brokers, topics, partitions, configs, the
/// producer-id block), and a control batch with the SnapshotFooterRecord, as KRaft writes them.
///
/// A node loads its latest snapshot at start and replays only the log after it. A snapshot that
/// does not read back whole (a bad CRC, no footer) stops the start with the file's name: it is
/// never half-applied, and a node never invents metadata.
package struct MetadataSnapshot: Sendable {
    /// Where the snapshot ends in the log (exclusive) and the epoch of its last entry.
    package struct Id: Hashable, Comparable, Sendable, CustomStringConvertible {
        package var endOffset: Int64
        package var epoch: Int32

        package static func < (lhs: Id, rhs: Id) -> Bool { (lhs.endOffset, lhs.epoch) < (rhs.endOffset, rhs.epoch) }

        var fileName: String {
            String(repeating: "0", count: max(0, 20 - String(endOffset).count)) + String(endOffset) + "-"
                + String(repeating: "0", count: max(0, 10 - String(epoch).count)) + String(epoch) + ".checkpoint"
        }

        /// The id a snapshot file's name carries; nil for other files.
        init?(fileName: String) {
            guard fileName.hasSuffix(".checkpoint") else { return nil }
            let parts = fileName.dropLast(".checkpoint".count).split(separator: "-")
            guard parts.count == 2, parts[0].count == 20, parts[1].count == 10,
                let end = Int64(parts[0]), let epoch = Int32(parts[1]), end >= 0, epoch >= 0
            else { return nil }
            self.init(endOffset: end, epoch: epoch)
        }

        package init(endOffset: Int64, epoch: Int32) {
            self.endOffset = endOffset
            self.epoch = epoch
        }

        package var description: String { "(end offset \(endOffset), epoch \(epoch))" }

        /// The id as the quorum's log names snapshots.
        package var epochEndOffset: EpochEndOffset {
            EpochEndOffset(epoch: LeaderEpoch(epoch), endOffset: Offset(endOffset))
        }

        package init(_ id: EpochEndOffset) {
            self.init(endOffset: id.endOffset.rawValue, epoch: id.epoch.rawValue)
        }
    }

    /// A snapshot file that cannot be used.
    package struct Corrupt: Error, CustomStringConvertible {
        package var file: String
        package var reason: String
        package var description: String {
            "metadata snapshot \(file) is corrupt (\(reason)); move it away to replay the metadata log from its start instead"
        }
    }

    /// Records per data batch.
    static let batchRecords = 1_000

    /// The records that rebuild `image` when applied to an empty one, in a stable order.
    package static func records(of image: MetadataImage) -> [MetadataRecord] {
        var records: [MetadataRecord] = []
        for registration in image.registrations.values.sorted(by: { $0.nodeId < $1.nodeId }) {
            records.append(.registerBroker(RegisterBrokerRecord(
                brokerId: registration.nodeId, incarnationId: registration.incarnation, brokerEpoch: registration.epoch,
                endPoints: registration.endpoints.indices.map { index in
                    .init(
                        name: index < registration.listenerNames.count ? registration.listenerNames[index] : "PLAINTEXT",
                        host: registration.endpoints[index].host, port: UInt16(clamping: registration.endpoints[index].port),
                        securityProtocol: index < registration.securityProtocols.count ? registration.securityProtocols[index] : 0)
                },
                rack: registration.endpoints.first?.rack ?? registration.rack,
                fenced: registration.fenced, inControlledShutdown: registration.inControlledShutdown)))
        }
        for topic in image.topics.values.sorted(by: { $0.name < $1.name }) {
            records.append(.topic(TopicRecord(name: topic.name, topicId: topic.id)))
            for partition in topic.partitions {
                records.append(.partition(partition.record(topicId: topic.id)))
            }
            for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                records.append(.config(ConfigRecord(
                    resourceType: MetadataRecord.ConfigResourceType.topic.rawValue, resourceName: topic.name, name: key, value: value)))
            }
        }
        for (broker, configs) in image.brokerConfigs.sorted(by: { $0.key < $1.key }) {
            for (key, value) in configs.sorted(by: { $0.key < $1.key }) {
                records.append(.config(ConfigRecord(
                    resourceType: MetadataRecord.ConfigResourceType.broker.rawValue, resourceName: broker, name: key, value: value)))
            }
        }
        for (user, credentials) in image.scramCredentials.sorted(by: { $0.key < $1.key }) {
            for (mechanism, credential) in credentials.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                records.append(.userScramCredential(UserScramCredentialRecord(user: user, mechanism: mechanism, credential)))
            }
        }
        for (id, acl) in image.acls.sorted(by: {
            ($0.key.mostSignificantBits, $0.key.leastSignificantBits) < ($1.key.mostSignificantBits, $1.key.leastSignificantBits)
        }) {
            records.append(.accessControlEntry(acl.record(id: id)))
        }
        for (entity, values) in image.clientQuotas.sorted(by: { "\($0.key.recordEntity)" < "\($1.key.recordEntity)" }) {
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                records.append(.clientQuota(ClientQuotaRecord(entity: entity.recordEntity, key: key, value: value)))
            }
        }
        if image.nextProducerId > 0 {
            records.append(.producerIds(ProducerIdsRecord(brokerId: -1, brokerEpoch: 0, nextProducerId: image.nextProducerId)))
        }
        return records
    }

    /// The snapshot file's bytes for `image` at `id`; `voters`, the voter set at `id` of a
    /// dynamic quorum (KIP-853), follows the header as KRaftVersion and Voters control records.
    package static func encode(
        _ image: MetadataImage, id: Id, lastContainedTimestamp: Int64, voters: [QuorumVoter]? = nil
    ) throws -> ByteBuffer {
        var file = ByteBuffer()
        var offset: Int64 = 0
        func control(_ type: ControlRecordType, _ value: ByteBuffer) throws {
            var configuration = RecordBatchBuilder.Configuration()
            configuration.isControlBatch = true
            configuration.baseOffset = offset
            configuration.partitionLeaderEpoch = id.epoch
            var builder = RecordBatchBuilder(configuration: configuration)
            builder.append(timestamp: lastContainedTimestamp, key: ControlRecordKey(type: type).encoded(), value: value)
            var batch = try builder.build()
            file.writeBuffer(&batch)
            offset += 1
        }
        var header = ByteBuffer()
        try SnapshotHeaderRecord(version: 0, lastContainedLogTimestamp: lastContainedTimestamp).write(to: &header, version: 0)
        try control(.snapshotHeader, header)
        if let voters {
            var batch = try RecordBatch(
                QuorumVoterRecords.batch(voters, epoch: id.epoch, withVersion: true, timestamp: lastContainedTimestamp))
            batch.setBaseOffset(offset)
            var bytes = batch.bytes
            file.writeBuffer(&bytes)
            offset = batch.nextOffset
        }
        let records = Self.records(of: image)
        var start = 0
        while start < records.count {
            let chunk = records[start..<min(records.count, start + batchRecords)]
            var configuration = RecordBatchBuilder.Configuration()
            configuration.baseOffset = offset
            configuration.partitionLeaderEpoch = id.epoch
            var builder = RecordBatchBuilder(configuration: configuration)
            for record in chunk { builder.append(timestamp: lastContainedTimestamp, key: nil, value: try record.encoded()) }
            var batch = try builder.build()
            file.writeBuffer(&batch)
            offset += Int64(chunk.count)
            start += chunk.count
        }
        var footer = ByteBuffer()
        try SnapshotFooterRecord(version: 0).write(to: &footer, version: 0)
        try control(.snapshotFooter, footer)
        return file
    }

    /// Applies the snapshot in `bytes` to `base` (the image a store starts from); throws
    /// ``Corrupt`` naming `file` unless every batch is whole and the footer ends it.
    package static func decode(_ bytes: ByteBuffer, onto base: MetadataImage, file: String) throws(Corrupt) -> MetadataImage {
        let batches: [RecordBatch]
        do {
            batches = try RecordBatchReader.batches(in: bytes)
            for batch in batches {
                try batch.validate()
                guard batch.computeChecksum() == batch.crc else { throw Corrupt(file: file, reason: "a batch fails its CRC") }
            }
        } catch let corrupt as Corrupt {
            throw corrupt
        } catch {
            throw Corrupt(file: file, reason: "\(error)")
        }
        guard batches.count >= 2, isControl(batches.first!, .snapshotHeader), isControl(batches.last!, .snapshotFooter) else {
            throw Corrupt(file: file, reason: "no snapshot header and footer around its records")
        }
        var image = base
        for batch in batches.dropFirst().dropLast() {
            // The quorum's voter set (read by `voters(in:)`) is not part of the image.
            if batch.isControlBatch, QuorumVoterRecords.voters(in: batch) != nil { continue }
            guard !batch.isControlBatch, let records = try? batch.records() else {
                throw Corrupt(file: file, reason: "a batch inside the snapshot does not read")
            }
            for record in records {
                guard let value = record.value else { throw Corrupt(file: file, reason: "a record without a value") }
                do {
                    if let decoded = try MetadataRecord.decode(value) { image.apply(decoded) }
                } catch {
                    throw Corrupt(file: file, reason: "a metadata record does not decode: \(error)")
                }
            }
        }
        return image
    }

    /// The voter set a snapshot records (KIP-853), if any.
    package static func voters(in bytes: ByteBuffer) -> [QuorumVoter]? {
        guard let batches = try? RecordBatchReader.batches(in: bytes) else { return nil }
        for batch in batches where batch.isControlBatch {
            if let voters = QuorumVoterRecords.voters(in: batch) { return voters }
        }
        return nil
    }

    private static func isControl(_ batch: RecordBatch, _ type: ControlRecordType) -> Bool {
        guard batch.isControlBatch, let records = try? batch.records(), records.count == 1, let key = records[0].key else { return false }
        return (try? ControlRecordKey(decoding: key))?.type == type
    }
}

extension MetadataSnapshot {
    /// The snapshot ids in `directory`, oldest first.
    static func ids(in directory: String) -> [Id] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { Id(fileName: $0) }.sorted()
    }

    /// Writes `image` as the snapshot `id` in `directory`: to a temporary file, synced, then
    /// renamed into place, so a crash leaves the whole snapshot or none.
    static func write(
        _ image: MetadataImage, id: Id, lastContainedTimestamp: Int64, directory: String, voters: [QuorumVoter]? = nil
    ) throws {
        let bytes = try encode(image, id: id, lastContainedTimestamp: lastContainedTimestamp, voters: voters)
        let path = directory + "/" + id.fileName
        try AtomicFileWriter(path: path).write(Array(bytes.readableBytesView))
    }

    /// Snapshot `id` in `directory`, read once: its image applied to `base`, and the voter set
    /// it records, if any.
    static func load(_ id: Id, directory: String, onto base: MetadataImage) throws -> (image: MetadataImage, voters: [QuorumVoter]?) {
        let path = directory + "/" + id.fileName
        let bytes = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path)))
        return (try decode(bytes, onto: base, file: path), voters(in: bytes))
    }

    /// The newest snapshot in `directory` ending at or below `limit` (the log's end: a snapshot
    /// past it covers entries this node does not hold), applied to `base`.
    static func loadLatest(
        directory: String, onto base: MetadataImage, atMost limit: Int64
    ) throws -> (id: Id, image: MetadataImage, voters: [QuorumVoter]?)? {
        guard let id = ids(in: directory).last(where: { $0.endOffset <= limit }) else { return nil }
        let loaded = try load(id, directory: directory, onto: base)
        return (id, loaded.image, loaded.voters)
    }
}
