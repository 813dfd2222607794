import ArgumentParser
import BrookRecords
import Foundation
import NIOCore

/// `brook dump-log`: prints the batches (and with `--print-data-log` the records) of segment
/// files offline, in kafka-dump-log's format, for debugging. Each batch's CRC is checked
/// (`isvalid`); a file whose end does not frame as a batch is reported and the exit status is 1.
/// Segments are read in chunks, so files of any size can be dumped.
struct DumpLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-log", abstract: "Print the record batches of segment (.log) files, like kafka-dump-log.")

    @Option(name: .customLong("files"), parsing: .upToNextOption, help: "Segment files to dump (NNNNNNNNNNNNNNNNNNNN.log).")
    var files: [String]
    @Flag(name: .customLong("print-data-log"), help: "Also print every record: offsets, timestamps, keys and payloads.")
    var printDataLog = false
    @Flag(name: .customLong("deep-iteration"), help: "Accepted for kafka-dump-log compatibility (records are always decoded with --print-data-log).")
    var deepIteration = false

    /// Bytes read from a segment at a time (more when a batch is larger).
    static let chunkSize = 8 << 20

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("--files needs at least one file") }
    }

    func run() throws {
        var failed = false
        for path in files {
            guard path.hasSuffix(".log") else { throw CommandFailure("\(path): only segment (.log) files can be dumped") }
            guard let handle = FileHandle(forReadingAtPath: path) else { throw CommandFailure("\(path): no such file or not readable") }
            defer { try? handle.close() }
            print("Dumping \(path)")
            let name = (path as NSString).lastPathComponent
            let base = Int64(name.dropLast(4)) ?? 0
            print("Log starting offset: \(base)")
            failed = try dump(handle, path: path) || failed
        }
        if failed { throw ExitCode.failure }
    }

    /// Prints every batch of the file; returns whether the file ended in bytes that are not a batch.
    private func dump(_ handle: FileHandle, path: String) throws -> Bool {
        var pending = ByteBuffer()
        var filePosition = 0
        while true {
            let chunk = try handle.read(upToCount: Self.chunkSize) ?? Data()
            pending.writeBytes(chunk)
            var reader = RecordBatchReader(pending, allowsTruncatedTail: true)
            do {
                while let batch = try reader.next() {
                    print(describe(batch, position: filePosition + reader.position - pending.readerIndex - batch.sizeInBytes))
                    if printDataLog { try printRecords(of: batch) }
                }
            } catch {
                print("Found invalid bytes at position \(filePosition + reader.position - pending.readerIndex) of \(path): \(error)")
                return true
            }
            // A partial batch at the end of the chunk is kept for the next one.
            let consumed = reader.position - pending.readerIndex - (reader.truncatedTail?.readableBytes ?? 0)
            filePosition += consumed
            pending.moveReaderIndex(forwardBy: consumed)
            pending.discardReadBytes()
            if chunk.isEmpty {
                guard pending.readableBytes == 0 else {
                    print("Found \(pending.readableBytes) invalid bytes at the end of \(path) (a partial batch)")
                    return true
                }
                return false
            }
        }
    }

    private func describe(_ batch: RecordBatch, position: Int) -> String {
        let valid = (try? batch.validate()) != nil
        var line = "baseOffset: \(batch.baseOffset) lastOffset: \(batch.lastOffset) count: \(batch.recordCount)"
        line += " baseSequence: \(batch.baseSequence) lastSequence: \(batch.lastSequence) producerId: \(batch.producerId)"
        line += " producerEpoch: \(batch.producerEpoch) partitionLeaderEpoch: \(batch.partitionLeaderEpoch)"
        line += " isTransactional: \(batch.isTransactional) isControl: \(batch.isControlBatch)"
        line += " deleteHorizonMs: \(batch.deleteHorizonMs.map { "OptionalLong[\($0)]" } ?? "OptionalLong.empty")"
        line += " position: \(position) \(batch.timestampType == .logAppendTime ? "LogAppendTime" : "CreateTime"): \(batch.maxTimestamp)"
        line += " size: \(batch.sizeInBytes) magic: \(batch.magic) compresscodec: \(batch.compression.map { "\($0)" } ?? "unknown")"
        line += " crc: \(batch.crc) isvalid: \(valid)"
        return line
    }

    private func printRecords(of batch: RecordBatch) throws {
        let records: [Record]
        do {
            records = try batch.records()
        } catch {
            print("| cannot decode the records: \(error)")
            return
        }
        let timestampName = batch.timestampType == .logAppendTime ? "LogAppendTime" : "CreateTime"
        for (index, record) in records.enumerated() {
            var line = "| offset: \(record.offset) \(timestampName): \(record.timestamp)"
            line += " keySize: \(record.key?.readableBytes ?? -1) valueSize: \(record.value?.readableBytes ?? -1)"
            if batch.isControlBatch, let key = record.key, key.readableBytes >= 4 {
                let type = key.getInteger(at: key.readerIndex + 2, as: Int16.self) ?? -1
                let epoch = record.value.flatMap { $0.readableBytes >= 6 ? $0.getInteger(at: $0.readerIndex + 2, as: Int32.self) : nil } ?? -1
                line += " endTxnMarker: \(type == 1 ? "COMMIT" : type == 0 ? "ABORT" : "UNKNOWN(\(type))") coordinatorEpoch: \(epoch)"
            } else {
                let sequence = batch.baseSequence < 0 ? -1 : batch.baseSequence &+ Int32(index)
                line += " sequence: \(sequence) headerKeys: [\(record.headers.map(\.key).joined(separator: ","))]"
                line += " key: \(Self.text(record.key)) payload: \(Self.text(record.value))"
            }
            print(line)
        }
    }

    /// A key or payload as text (UTF-8, lossily), "null" when absent.
    static func text(_ bytes: ByteBuffer?) -> String {
        guard let bytes else { return "null" }
        return String(decoding: bytes.readableBytesView, as: UTF8.self)
    }
}
