import BrookCodegenCore
import BrookProtocol
import NIOCore
import PropertyBased
import Testing

/// The zero-copy Fetch encoder writes exactly the generated encoder's bytes, with or without holes.
@Suite struct FetchResponseSegmentsTests {
    @Test func segmentsMatchTheGeneratedEncoderAtEveryVersion() async throws {
        let spec = try #require(KafkaProtocolDefinitions.specs.first { $0.name == "FetchResponse" })
        await propertyCheck(count: 30, input: Gen.uint64()) { seed in
            for version in FetchResponse.validVersions {
                var encoder = RandomWireEncoder(spec: spec, seed: seed &+ UInt64(version))
                var bytes = encoder.message(version: version)
                guard let response = try? FetchResponse(from: &bytes, version: version) else {
                    Issue.record("random FetchResponse v\(version) did not decode")
                    continue
                }
                var expected = ByteBuffer()
                try response.writeResponseFrameForComparison(version: version, correlationId: 77, into: &expected)

                let inline = try response.frameSegments(version: version, correlationId: 77) { _, _ in nil }
                #expect(Self.flatten(inline, response: response) == expected, "inline v\(version) seed \(seed)")

                let holes = try response.frameSegments(version: version, correlationId: 77) { topic, partition in
                    response.responses[topic].partitions[partition].records?.readableBytes
                }
                #expect(Self.flatten(holes, response: response) == expected, "holes v\(version) seed \(seed)")
            }
        }
    }

    /// Joins the segments, filling each hole with the partition's own records.
    static func flatten(_ segments: [FetchResponse.Segment], response: FetchResponse) -> ByteBuffer {
        var output = ByteBuffer()
        for segment in segments {
            switch segment {
            case .bytes(let bytes):
                output.writeImmutableBuffer(bytes)
            case .records(let topic, let partition, let length):
                let records = response.responses[topic].partitions[partition].records ?? ByteBuffer()
                #expect(records.readableBytes == length)
                output.writeImmutableBuffer(records)
            }
        }
        return output
    }
}

extension FetchResponse {
    func writeResponseFrameForComparison(version: Int16, correlationId: Int32, into buffer: inout ByteBuffer) throws {
        try buffer.writeResponseFrame(self, version: version, correlationId: correlationId)
    }
}
