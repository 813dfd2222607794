@testable import BrookBroker
import BrookProtocol
import NIOCore
import Testing

/// `request_percentage`: a handler's time counts against the client's quota, and a response
/// with `throttle_time_ms` tells a client over it how long it is throttled (KIP-124).
@Suite struct RequestQuotaTests {
    /// Answers Metadata at once with an empty response.
    struct InstantMetadata: RequestHandler {
        let versions: ClosedRange<Int16> = 0...12
        func handle(_ request: MetadataRequest, context: RequestContext) async throws -> MetadataResponse? {
            MetadataResponse()
        }
    }

    static func serve(_ handler: AnyRequestHandler, quotas: ConnectionQuotas?) async throws -> (MetadataResponse, Int64) {
        var bytes = ByteBuffer()
        try bytes.writeRequestFrame(MetadataRequest(topics: []), version: 12, correlationId: 7, clientId: "app")
        bytes.moveReaderIndex(forwardBy: 4)
        let frame = try RequestFrame(frame: bytes)
        var context = RequestContext(header: frame.header, apiVersion: 12, remoteAddress: nil, listenerName: "PLAINTEXT")
        context.principal = "User:alice"
        context.quotas = quotas
        guard case .frame(var output) = await handler.serve(frame, context) else { throw Unanswered() }
        output.moveReaderIndex(forwardBy: 4)
        _ = try ResponseHeader(from: &output, version: ApiKey.metadata.responseHeaderVersion(12))
        return (try MetadataResponse(from: &output, version: 12), quotas?.takeMute() ?? 0)
    }

    struct Unanswered: Error {}

    /// Takes 200 ms, either busy (counted) or waiting for others (not counted, as a long poll).
    struct SlowMetadata: RequestHandler {
        let versions: ClosedRange<Int16> = 0...12
        let waits: Bool
        func handle(_ request: MetadataRequest, context: RequestContext) async throws -> MetadataResponse? {
            // The duration is what is measured here, not a synchronisation.
            if waits {
                try await context.waiting { try await Task.sleep(for: .milliseconds(200)) }
            } else {
                try await Task.sleep(for: .milliseconds(200))
            }
            return MetadataResponse()
        }
    }

    @Test func waitingForOthersOrForDataIsNotTheRequestsTime() async throws {
        // 1% of a second per second: 200 ms is 20 times that, a few microseconds are not.
        func served(waits: Bool) async throws -> Int32 {
            let manager = ClientQuotaManager(windowMs: 1000, windowCount: 11)
            manager.update([QuotaEntity(["user": "alice"]): ["request_percentage": 1]])
            return try await Self.serve(AnyRequestHandler(SlowMetadata(waits: waits)), quotas: ConnectionQuotas(manager: manager)).0.throttleTimeMs
        }
        #expect(try await served(waits: true) == 0)
        #expect(try await served(waits: false) > 0)
    }

    @Test func aClientOverItsRequestQuotaIsToldHowLongItIsThrottledAndMuted() async throws {
        let manager = ClientQuotaManager(windowMs: 1000, windowCount: 11)
        // A bound so small that any handler time exceeds it.
        manager.update([QuotaEntity(["user": "alice"]): ["request_percentage": 0.000_001]])
        let (response, mute) = try await Self.serve(AnyRequestHandler(InstantMetadata()), quotas: ConnectionQuotas(manager: manager))
        #expect(response.throttleTimeMs > 0)
        #expect(mute == Int64(response.throttleTimeMs))
    }

    @Test func withoutARequestQuotaNothingIsThrottled() async throws {
        let manager = ClientQuotaManager(windowMs: 1000, windowCount: 11)
        manager.update([QuotaEntity(["user": "alice"]): ["producer_byte_rate": 1]])
        let (response, mute) = try await Self.serve(AnyRequestHandler(InstantMetadata()), quotas: ConnectionQuotas(manager: manager))
        #expect(response.throttleTimeMs == 0)
        #expect(mute == 0)
        let (unlimited, _) = try await Self.serve(AnyRequestHandler(InstantMetadata()), quotas: nil)
        #expect(unlimited.throttleTimeMs == 0)
    }

    @Test func theLongerThrottleIsReportedAndResponsesWithoutTheFieldAreLeftAlone() {
        #expect(AnyRequestHandler.reporting(50, in: MetadataResponse(throttleTimeMs: 80)).throttleTimeMs == 80)
        #expect(AnyRequestHandler.reporting(50, in: MetadataResponse(throttleTimeMs: 20)).throttleTimeMs == 50)
        let handshake = SaslHandshakeResponse(errorCode: 0, mechanisms: ["PLAIN"])
        #expect(AnyRequestHandler.reporting(50, in: handshake) == handshake)
    }
}
