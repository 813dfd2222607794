import BrookProtocol
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite struct FramingTests {
    static func frame(_ payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(payload.count))
        buffer.writeBytes(payload)
        return buffer
    }

    @Test func framesSurviveAnySplitOfTheStream() throws {
        let payloads: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 7, count: 300), [9]]
        var input = ByteBuffer()
        for payload in payloads { input.writeImmutableBuffer(Self.frame(payload)) }
        let expected = payloads.map { ByteBuffer(bytes: $0) }
        // Feeds the stream whole, byte by byte and in random chunks, and checks leftovers.
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(input, expected)],
            decoderFactory: { KafkaFrameDecoder(maximumFrameSize: 1_024) }
        )
    }

    @Test func oversizedFramesAreRejectedBeforeTheirBytesArrive() throws {
        var decoder = KafkaFrameDecoder(maximumFrameSize: 1_000)
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(1_001))
        #expect(throws: ProtocolError.frameTooLarge(size: 1_001, limit: 1_000)) {
            _ = try decoder.decode(buffer: &buffer)
        }
    }

    @Test func negativeSizesAreRejected() throws {
        var decoder = KafkaFrameDecoder()
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(-5))
        #expect(throws: ProtocolError.invalidLength(-5)) { _ = try decoder.decode(buffer: &buffer) }
    }

    @Test func partialFramesWait() throws {
        var decoder = KafkaFrameDecoder()
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(10))
        buffer.writeBytes([1, 2, 3])
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 7)
    }

    @Test func headerVersionsFollowFlexibility() {
        #expect(ApiKey.produce.requestHeaderVersion(8) == 1)
        #expect(ApiKey.produce.requestHeaderVersion(9) == 2)
        #expect(ApiKey.controlledShutdown.requestHeaderVersion(0) == 0)
        #expect(ApiKey.produce.responseHeaderVersion(9) == 1)
        #expect(ApiKey.produce.responseHeaderVersion(8) == 0)
        #expect(ApiKey.apiVersions.responseHeaderVersion(3) == 0)
        #expect(ApiKey.apiVersions.requestHeaderVersion(3) == 2)
        #expect(ApiKey.metadata.validVersions.lowerBound == 0)
    }

    @Test func requestFramesRoundTrip() throws {
        let request = MetadataRequest(topics: [.init(name: "orders")], allowAutoTopicCreation: true)
        for version in MetadataRequest.validVersions {
            var buffer = ByteBuffer()
            try buffer.writeRequestFrame(request, version: version, correlationId: 42, clientId: "brook-test")
            var decoder = KafkaFrameDecoder()
            let frameBytes = try #require(try decoder.decode(buffer: &buffer))
            let frame = try RequestFrame(frame: frameBytes)
            #expect(frame.apiKey == .metadata)
            #expect(frame.apiVersion == version)
            #expect(frame.header.correlationId == 42)
            #expect(frame.header.clientId == "brook-test")
            let decoded = try frame.decode(MetadataRequest.self)
            #expect(decoded.topics?.first?.name == "orders")
        }
    }

    @Test func unknownApiKeysStillYieldTheCorrelationId() throws {
        var payload = ByteBuffer()
        payload.writeInteger(Int16(999))  // api key
        payload.writeInteger(Int16(0))  // version
        payload.writeInteger(Int32(7))  // correlation id
        payload.writeInteger(Int16(-1))  // null client id
        let frame = try RequestFrame(frame: payload)
        #expect(frame.apiKey == nil)
        #expect(frame.header.correlationId == 7)
        #expect(throws: ProtocolError.unknownApiKey(999)) { try frame.decode(ProduceRequest.self) }
    }

    @Test func apiVersionsResponsesKeepHeaderVersionZero() throws {
        let response = ApiVersionsResponse(errorCode: 0, apiKeys: [.init(apiKey: 0, minVersion: 0, maxVersion: 11)])
        var buffer = ByteBuffer()
        try buffer.writeResponseFrame(response, version: 3, correlationId: 5)
        #expect(buffer.readInteger(as: Int32.self) == Int32(buffer.readableBytes))
        #expect(buffer.readInteger(as: Int32.self) == 5)
        // Header v0 has no tagged fields: the body's error code follows at once.
        #expect(buffer.readInteger(as: Int16.self) == 0)
    }
}
