import BrookCodegenCore
import BrookProtocol
import Foundation
import NIOCore
import PropertyBased
import Testing

/// Every generated message, at every valid version, decodes random encodings written from its
/// JSON definition and re-encodes them byte for byte.
@Suite struct GeneratedRoundTripTests {
    static let typesByName: [String: any ProtocolMessage.Type] = Dictionary(
        uniqueKeysWithValues: GeneratedMessages.all.map { ($0.messageName, $0) }
    )

    @Test func definitionsArePresent() {
        #expect(KafkaProtocolDefinitions.isPresent, "Kafka's definitions are missing at \(KafkaProtocolDefinitions.folder.path)")
        #expect(KafkaProtocolDefinitions.specs.count == GeneratedMessages.all.count)
    }

    @Test func everyDefinitionHasAGeneratedType() {
        for spec in KafkaProtocolDefinitions.specs {
            #expect(Self.typesByName[spec.name] != nil, "no generated type for \(spec.name)")
        }
    }

    @Test func randomEncodingsRoundTripAtEveryVersion() async {
        let specs = KafkaProtocolDefinitions.specs
        #expect(!specs.isEmpty)
        await propertyCheck(count: 12, input: Gen.uint64()) { seed in
            for (index, spec) in specs.enumerated() {
                guard let type = Self.typesByName[spec.name] else { continue }
                for version in spec.validVersions.lowest...spec.validVersions.highest {
                    var encoder = RandomWireEncoder(spec: spec, seed: seed &+ UInt64(index) &* 1_000 &+ UInt64(version))
                    let bytes = encoder.message(version: version)
                    Self.checkRoundTrip(type, bytes: bytes, version: version, seed: seed)
                }
            }
        }
    }

    /// Decodes, checks nothing is left over, re-encodes, compares bytes, decodes again and
    /// compares values.
    static func checkRoundTrip<Message: ProtocolMessage>(_: Message.Type, bytes: ByteBuffer, version: Int16, seed: UInt64) {
        let context = "\(Message.messageName) v\(version) seed \(seed)"
        do {
            var input = bytes
            let decoded = try Message(from: &input, version: version)
            #expect(input.readableBytes == 0, "\(context): \(input.readableBytes) bytes left over")
            let encoded = try decoded.encoded(version: version)
            #expect(encoded == bytes, "\(context): re-encoding differs")
            var again = encoded
            let redecoded = try Message(from: &again, version: version)
            #expect(redecoded == decoded, "\(context): decoding the re-encoding differs")
        } catch {
            Issue.record("\(context): \(error)")
        }
    }

    @Test func unsupportedVersionsAreRejected() throws {
        var buffer = ByteBuffer()
        #expect(throws: ProtocolError.unsupportedVersion(message: "ProduceRequest", version: 99)) {
            try ProduceRequest(from: &buffer, version: 99)
        }
        #expect(throws: ProtocolError.unsupportedVersion(message: "ProduceRequest", version: -1)) {
            try ProduceRequest().write(to: &buffer, version: -1)
        }
    }

    @Test func fieldsMissingFromAVersionMustHoldTheirDefault() throws {
        var buffer = ByteBuffer()
        let request = ProduceRequest(transactionalId: "txn", acks: -1, timeoutMs: 30_000)
        #expect(throws: ProtocolError.fieldNotInVersion(field: "TransactionalId", version: 2)) {
            try request.write(to: &buffer, version: 2)
        }
        // Ignorable fields are dropped silently, as in Kafka.
        let response = ProduceResponse(throttleTimeMs: 100)
        try response.write(to: &buffer, version: 0)
    }
}
