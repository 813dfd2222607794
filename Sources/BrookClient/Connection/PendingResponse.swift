import BrookProtocol
import NIOCore

/// The response to a request already written by ``BrokerConnection/enqueue(_:version:frameCapacity:)``.
///
/// Awaiting it decodes the response; the moment the frame was read from the socket is kept, so
/// a caller that gets round to awaiting late still measures the true round trip.
public struct PendingResponse<Response: KafkaResponse>: Sendable {
    let frame: EventLoopFuture<ResponseFrame>
    let correlationId: Int32
    let version: Int16
    let headerVersion: Int16
    let broker: String

    /// The decoded response.
    public func get() async throws -> Response {
        try await getWithArrival().response
    }

    /// The decoded response and the moment its frame arrived.
    public func getWithArrival() async throws -> (response: Response, receivedAt: ContinuousClock.Instant) {
        var received: ResponseFrame
        do {
            received = try await frame.get()
        } catch {
            throw ClientError.connectionClosed(broker: broker)
        }
        let header = try ResponseHeader(from: &received.bytes, version: headerVersion)
        guard header.correlationId == correlationId else {
            throw ClientError.correlationMismatch(expected: correlationId, received: header.correlationId)
        }
        return (try Response(from: &received.bytes, version: version), received.receivedAt)
    }
}

/// A request that gets no response, written by ``BrokerConnection/enqueueUnanswered(_:version:frameCapacity:)``.
public struct PendingWrite: Sendable {
    let written: EventLoopFuture<ContinuousClock.Instant>
    let broker: String

    /// Waits until the frame has been handed to the socket; returns when that happened.
    @discardableResult
    public func get() async throws -> ContinuousClock.Instant {
        do {
            return try await written.get()
        } catch {
            throw ClientError.connectionClosed(broker: broker)
        }
    }
}
