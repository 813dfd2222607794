import BrookProtocol
import Foundation
import NIOCore
import Testing

/// Requests captured from real clients (kcat, confluent-kafka, kafka-python; see
/// scripts/capture) decode and re-encode byte for byte.
@Suite struct CapturedRequestTests {
    struct Capture: Sendable, CustomStringConvertible {
        let client: String
        let file: String
        let bytes: [UInt8]
        /// Bytes the client sent after the end of the body; Kafka ignores them, and so does Brook.
        let trailingBytes: Int
        var description: String { "\(client)/\(file)" }
    }

    struct ManifestEntry: Decodable {
        let file: String
        let trailing_bytes: Int
    }

    static let captures: [Capture] = {
        guard let root = Bundle.module.url(forResource: "Fixtures/requests", withExtension: nil) else { return [] }
        let manifestData = FileManager.default.contents(atPath: root.appendingPathComponent("manifest.json").path) ?? Data()
        let manifest = (try? JSONDecoder().decode([ManifestEntry].self, from: manifestData)) ?? []
        let trailing = Dictionary(manifest.map { ($0.file, $0.trailing_bytes) }, uniquingKeysWith: { first, _ in first })
        let clients = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        var result: [Capture] = []
        for client in clients.sorted() {
            let folder = root.appendingPathComponent(client)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for file in files.sorted() where file.hasSuffix(".bin") {
                guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(file).path) else { continue }
                let trailingBytes = trailing["\(client)/\(file)"] ?? 0
                result.append(Capture(client: client, file: file, bytes: Array(data), trailingBytes: trailingBytes))
            }
        }
        return result
    }()

    @Test func everyClientIsRepresented() {
        let clients = Set(Self.captures.map(\.client))
        #expect(clients.isSuperset(of: ["kcat", "confluent-kafka", "kafka-python"]), "captured clients: \(clients)")
        let produce = Self.captures.filter { $0.file.contains("-Produce-") }
        #expect(produce.count >= 10, "expected a Produce capture per client and codec")
    }

    @Test(arguments: captures)
    func capturedRequestRoundTrips(_ capture: Capture) throws {
        let original = ByteBuffer(bytes: capture.bytes)
        let frame = try RequestFrame(frame: original)
        let api = try #require(frame.apiKey, "unknown API key \(frame.apiKeyValue)")
        #expect(capture.file.contains("-\(api.name)-v\(frame.apiVersion)"), "file name does not match \(api.name) v\(frame.apiVersion)")
        let (reencoded, leftover) = try Self.roundTrip(api.requestType, frame: frame)
        #expect(leftover == capture.trailingBytes, "\(leftover) bytes of the body were not decoded")
        let expected = capture.bytes.dropLast(capture.trailingBytes)
        #expect(Array(reencoded.readableBytesView) == Array(expected), "\(capture) does not re-encode byte for byte")
    }

    /// Decodes the body as `Request`, then writes header and body again; also returns how many
    /// bytes of the body were left undecoded.
    static func roundTrip<Request: KafkaRequest>(_: Request.Type, frame: RequestFrame) throws -> (ByteBuffer, Int) {
        var body = frame.body
        let request = try Request(from: &body, version: frame.apiVersion)
        var output = ByteBuffer()
        try frame.header.write(to: &output, version: frame.headerVersion)
        try request.write(to: &output, version: frame.apiVersion)
        return (output, body.readableBytes)
    }

    /// Every strict prefix of every captured body fails to decode with an error, never a crash.
    /// (Decoding is deterministic, so a prefix that decoded would mean the whole body decodes
    /// with bytes left over, which the round-trip test rules out.)
    @Test(arguments: captures)
    func truncatedRequestsAreRejected(_ capture: Capture) throws {
        let frame = try RequestFrame(frame: ByteBuffer(bytes: capture.bytes))
        let api = try #require(frame.apiKey)
        for length in 0..<(frame.body.readableBytes - capture.trailingBytes) {
            var truncated = frame
            truncated.body = frame.body.getSlice(at: frame.body.readerIndex, length: length)!
            let threw = Self.decodingThrows(api.requestType, frame: truncated)
            #expect(threw, "\(capture) decoded from \(length) bytes")
        }
    }

    static func decodingThrows<Request: KafkaRequest>(_: Request.Type, frame: RequestFrame) -> Bool {
        var body = frame.body
        do {
            _ = try Request(from: &body, version: frame.apiVersion)
            return false
        } catch {
            return true
        }
    }
}
