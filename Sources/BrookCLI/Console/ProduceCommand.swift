import ArgumentParser
import BrookClient
import BrookRecords
import NIOCore
import Synchronization

/// `brook produce`: one record per line of standard input, as kafka-console-producer sends them.
///
/// With `--property parse.key=true` each line is `key<separator>value` (`key.separator`, a tab by
/// default); a line without the separator is an error. `--producer-property k=v` sets producer
/// configs by their Kafka names (linger.ms, batch.size, buffer.memory, max.block.ms,
/// delivery.timeout.ms, enable.idempotence, max.in.flight.requests.per.connection, retry.backoff.ms,
/// client.id). Every record is acknowledged before the command exits; the first failure is
/// reported on stderr and the exit status is 1.
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce", abstract: "Send one record per line of standard input to a topic.")

    @OptionGroup var bootstrap: BootstrapOptions
    @Option(help: "The topic to send to.") var topic: String
    @Option(name: .customLong("property"), help: "parse.key=true|false, key.separator=SEP (repeatable).")
    var properties: [String] = []
    @Option(name: .customLong("producer-property"), help: "A producer config as key=value (repeatable).")
    var producerProperties: [String] = []
    @Option(name: .customLong("compression-codec"), help: "none, gzip, snappy, lz4 or zstd.")
    var compressionCodec = "none"
    @Option(help: "0, 1, or all (-1).") var acks = "all"

    func validate() throws {
        guard CompressionCodec.named(compressionCodec) != nil else {
            throw ValidationError("unknown compression codec '\(compressionCodec)' (none, gzip, snappy, lz4, zstd)")
        }
        guard ["0", "1", "-1", "all"].contains(acks) else { throw ValidationError("acks must be 0, 1, -1 or all") }
    }

    func run() async throws {
        let reader = try LineFormat(properties)
        let producer = try await Producer.connect(try configuration())
        let failure = Mutex<(any Error)?>(nil)
        var lineNumber = 0
        do {
            while let line = readLine(strippingNewline: true) {
                lineNumber += 1
                if failure.withLock({ $0 }) != nil { break }
                let (key, value) = try reader.split(line, number: lineNumber)
                try await producer.enqueue(ProducerRecord(topic: topic, key: key.map { ByteBuffer(string: $0) }, value: ByteBuffer(string: value))) {
                    if case .failure(let error) = $0 { failure.withLock { $0 = $0 ?? error } }
                }
            }
        } catch {
            await producer.close()
            throw error
        }
        await producer.close()
        if let error = failure.withLock({ $0 }) { throw CommandFailure("could not send to \(topic): \(error)") }
    }

    private func configuration() throws -> ProducerConfiguration {
        var configuration = ProducerConfiguration(bootstrapServers: bootstrap.bootstrapServer)
        configuration.clientId = "brook-produce"
        configuration.security = try bootstrap.clientSecurity()
        configuration.acks = acks == "all" ? -1 : Int16(acks)!
        configuration.compression = CompressionCodec.named(compressionCodec)!
        configuration.maxBlockMs = 10_000
        for property in producerProperties {
            let (key, value) = try KeyValue.parse(property, flag: "--producer-property")
            func int() throws -> Int {
                guard let number = Int(value) else { throw ValidationError("\(key) must be a number, not '\(value)'") }
                return number
            }
            switch key {
            case "linger.ms": configuration.lingerMs = try int()
            case "batch.size": configuration.batchSize = try int()
            case "buffer.memory": configuration.bufferMemory = try int()
            case "max.block.ms": configuration.maxBlockMs = try int()
            case "delivery.timeout.ms": configuration.deliveryTimeoutMs = try int()
            case "request.timeout.ms": configuration.requestTimeoutMs = try int()
            case "retry.backoff.ms": configuration.retryBackoffMs = try int()
            case "max.in.flight.requests.per.connection": configuration.maxInFlightRequestsPerConnection = try int()
            case "enable.idempotence": configuration.enableIdempotence = value == "true"
            case "client.id": configuration.clientId = value
            default: throw ValidationError("unsupported producer property '\(key)'")
            }
        }
        return configuration
    }
}

/// How `brook produce` reads a line: a value, or a key and a value around a separator.
struct LineFormat {
    var parseKey = false
    var separator = "\t"

    init(_ properties: [String]) throws {
        for property in properties {
            let (key, value) = try KeyValue.parse(property, flag: "--property")
            switch key {
            case "parse.key": parseKey = value == "true"
            case "key.separator":
                guard !value.isEmpty else { throw ValidationError("key.separator must not be empty") }
                separator = value
            case "ignore.error", "null.marker": break
            default: throw ValidationError("unsupported property '\(key)'")
            }
        }
    }

    func split(_ line: String, number: Int) throws -> (key: String?, value: String) {
        guard parseKey else { return (nil, line) }
        guard let range = line.firstRange(of: separator) else {
            throw CommandFailure("line \(number) has no key separator '\(separator)'")
        }
        return (String(line[..<range.lowerBound]), String(line[range.upperBound...]))
    }
}

/// `key=value` command-line settings.
enum KeyValue {
    static func parse(_ text: String, flag: String) throws -> (String, String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ValidationError("\(flag) takes key=value, not '\(text)'")
        }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }
}

/// A command that failed for a reason worth one line on stderr.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

extension CompressionCodec {
    /// The codec of a `compression.type` / `--compression-codec` name.
    static func named(_ name: String) -> CompressionCodec? {
        allCases.first { $0.description == name.lowercased() }
    }
}
