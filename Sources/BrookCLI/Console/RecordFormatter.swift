import ArgumentParser
import BrookClient
import BrookRecords
import NIOCore

/// How `brook consume` prints a record: kafka-console-consumer's DefaultMessageFormatter.
///
/// The columns, each printed when asked for and separated by `key.separator` (a tab):
/// `CreateTime:<ms>` (or `LogAppendTime:<ms>`), `Partition:<p>`, `Offset:<o>`, the headers as
/// `k1:v1,k2:v2` (`headers.separator`; `NO_HEADERS` when there are none), the key, the value;
/// then `line.separator`. A null key, value or header value prints `null.literal` ("null").
/// Bytes are written as they are.
struct RecordFormatter {
    var printTimestamp = false
    var printPartition = false
    var printOffset = false
    var printHeaders = false
    var printKey = false
    var printValue = true
    var keySeparator = "\t"
    var lineSeparator = "\n"
    var headersSeparator = ","
    var nullLiteral = "null"

    /// Reads `--property key=value` settings.
    init(_ properties: [String]) throws {
        for property in properties {
            let (key, value) = try KeyValue.parse(property, flag: "--property")
            func flag() throws -> Bool {
                switch value.lowercased() {
                case "true": return true
                case "false": return false
                default: throw ValidationError("\(key) must be true or false, not '\(value)'")
                }
            }
            switch key {
            case "print.timestamp": printTimestamp = try flag()
            case "print.partition": printPartition = try flag()
            case "print.offset": printOffset = try flag()
            case "print.headers": printHeaders = try flag()
            case "print.key": printKey = try flag()
            case "print.value": printValue = try flag()
            case "key.separator": keySeparator = value
            case "line.separator": lineSeparator = value
            case "headers.separator": headersSeparator = value
            case "null.literal": nullLiteral = value
            default: throw ValidationError("unsupported property '\(key)'")
            }
        }
    }

    /// Appends the record's line to `out`.
    func write(_ record: ConsumerRecord, to out: inout [UInt8]) {
        var columns: [[UInt8]] = []
        if printTimestamp {
            let type = record.timestampType == .logAppendTime ? "LogAppendTime" : "CreateTime"
            columns.append(Array("\(type):\(record.timestamp)".utf8))
        }
        if printPartition { columns.append(Array("Partition:\(record.partition)".utf8)) }
        if printOffset { columns.append(Array("Offset:\(record.offset)".utf8)) }
        if printHeaders {
            if record.headers.isEmpty {
                columns.append(Array("NO_HEADERS".utf8))
            } else {
                var headers: [UInt8] = []
                for (index, header) in record.headers.enumerated() {
                    if index > 0 { headers += headersSeparator.utf8 }
                    headers += header.key.utf8
                    headers += ":".utf8
                    headers += bytes(header.value)
                }
                columns.append(headers)
            }
        }
        if printKey { columns.append(bytes(record.key)) }
        if printValue { columns.append(bytes(record.value)) }
        for (index, column) in columns.enumerated() {
            if index > 0 { out += keySeparator.utf8 }
            out += column
        }
        out += lineSeparator.utf8
    }

    private func bytes(_ buffer: ByteBuffer?) -> [UInt8] {
        guard let buffer else { return Array(nullLiteral.utf8) }
        return buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
    }
}
