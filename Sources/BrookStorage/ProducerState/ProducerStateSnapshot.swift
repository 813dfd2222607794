#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BrookRecords
import NIOCore

/// Producer-state snapshots beside the segments: `%020d.snapshot`, named by the log offset the
/// state is valid at, in Kafka's format (version 1):
///
/// ```
/// version: int16 = 1 | crc: uint32 (CRC-32C of everything after it) | count: int32
/// count × { producerId int64 | epoch int16 | lastSequence int32 | lastOffset int64 |
///           offsetDelta int32 | timestamp int64 | coordinatorEpoch int32 | currentTxnFirstOffset int64 }
/// ```
///
/// Only each producer's last batch is kept, as in Kafka; `coordinatorEpoch` is the epoch of the
/// coordinator that wrote the producer's last marker and `currentTxnFirstOffset` the first
/// offset of its open transaction (-1 for none). A producer known only from a marker has
/// lastSequence and lastOffset -1. A snapshot is written whole to a
/// temporary file, fsynced and renamed, so a crash leaves either the old file or the new one; a
/// file whose CRC does not match is ignored (state is then rebuilt from the log).
enum ProducerStateSnapshot {
    static let fileSuffix = ".snapshot"
    static let version: Int16 = 1
    static let entrySize = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8

    static func fileName(offset: Int64) -> String {
        SegmentFileName.stem(offset) + fileSuffix
    }

    static func encode(_ table: ProducerStateTable) -> ByteBuffer {
        var body = ByteBuffer()
        let entries = table.entries.values.sorted { $0.producerId < $1.producerId }
        body.writeInteger(Int32(entries.count))
        for entry in entries {
            // A producer known only from a marker has no batch: Kafka writes -1s then.
            let last = entry.batches.last
            body.writeInteger(entry.producerId)
            body.writeInteger(entry.epoch)
            body.writeInteger(last?.lastSequence ?? -1)
            body.writeInteger(last?.lastOffset ?? -1)
            body.writeInteger(Int32(last.map { $0.lastOffset - $0.firstOffset } ?? 0))
            body.writeInteger(last?.maxTimestamp ?? entry.lastTimestamp)
            body.writeInteger(entry.coordinatorEpoch)
            body.writeInteger(entry.currentTxnFirstOffset ?? -1)
        }
        var file = ByteBuffer()
        file.writeInteger(version)
        file.writeInteger(body.withUnsafeReadableBytes { CRC32C.update(0, $0) })
        file.writeBuffer(&body)
        return file
    }

    /// Decodes a snapshot; nil when it is damaged or of another version.
    static func decode(_ file: ByteBuffer) -> ProducerStateTable? {
        var buffer = file
        guard let version = buffer.readInteger(as: Int16.self), version == Self.version,
              let crc = buffer.readInteger(as: UInt32.self),
              buffer.withUnsafeReadableBytes({ CRC32C.update(0, $0) }) == crc,
              let count = buffer.readInteger(as: Int32.self), count >= 0,
              buffer.readableBytes == Int(count) * entrySize else { return nil }
        var table = ProducerStateTable()
        for _ in 0..<count {
            guard let producerId = buffer.readInteger(as: Int64.self), let epoch = buffer.readInteger(as: Int16.self),
                  let lastSequence = buffer.readInteger(as: Int32.self), let lastOffset = buffer.readInteger(as: Int64.self),
                  let offsetDelta = buffer.readInteger(as: Int32.self), let timestamp = buffer.readInteger(as: Int64.self),
                  let coordinatorEpoch = buffer.readInteger(as: Int32.self),
                  let txnFirstOffset = buffer.readInteger(as: Int64.self) else { return nil }
            let firstOffset = lastOffset - Int64(offsetDelta)
            let firstSequence = lastSequence &- offsetDelta
            let batches: [ProducerStateTable.BatchRecord] = lastOffset < 0 ? [] : [
                .init(firstSequence: firstSequence, lastSequence: lastSequence, firstOffset: firstOffset,
                      lastOffset: lastOffset, maxTimestamp: timestamp)
            ]
            table.restore(ProducerStateTable.Entry(
                producerId: producerId, epoch: epoch, batches: batches, lastTimestamp: timestamp,
                currentTxnFirstOffset: txnFirstOffset < 0 ? nil : txnFirstOffset, coordinatorEpoch: coordinatorEpoch
            ))
        }
        return table
    }
}

extension ProducerStateSnapshot {
    /// Snapshot files kept per partition; older ones are deleted when a new one is written.
    static let kept = 2

    /// Writes the state valid at `offset` atomically and deletes all but the newest snapshots.
    static func write(_ table: ProducerStateTable, directory: String, offset: Int64) throws(StorageError) {
        let path = directory + "/" + fileName(offset: offset)
        do {
            try AtomicFileWriter(path: path).write(Array(buffer: encode(table)))
        } catch {
            throw .corruptFile(path: path, reason: "could not write the producer-state snapshot: \(error)")
        }
        let offsets = try snapshotOffsets(in: directory)
        for old in offsets.dropLast(kept) {
            _ = try FileIO.remove(directory + "/" + fileName(offset: old))
        }
    }

    /// The newest readable snapshot at or below `offset`, with the offset it is valid at.
    static func latest(in directory: String, atOrBelow offset: Int64) throws(StorageError) -> (offset: Int64, table: ProducerStateTable)? {
        for candidate in try snapshotOffsets(in: directory).reversed() where candidate <= offset {
            let bytes = try? AtomicFileWriter(path: directory + "/" + fileName(offset: candidate)).read()
            if let bytes, let table = decode(ByteBuffer(bytes: bytes)) { return (candidate, table) }
        }
        return nil
    }

    /// Deletes the snapshots valid past `offset` (after a truncation).
    static func deleteAbove(_ offset: Int64, in directory: String) throws(StorageError) {
        for candidate in try snapshotOffsets(in: directory) where candidate > offset {
            _ = try FileIO.remove(directory + "/" + fileName(offset: candidate))
        }
    }

    /// The offsets of the snapshot files in `directory`, ascending.
    static func snapshotOffsets(in directory: String) throws(StorageError) -> [Int64] {
        try FileIO.listDirectory(directory).compactMap { name -> Int64? in
            guard name.hasSuffix(fileSuffix), name.count == 20 + fileSuffix.count else { return nil }
            return Int64(name.prefix(20))
        }.sorted()
    }
}
