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
        let received: ResponseFrame
        do {
            received = try await frame.get()
        } catch {
            throw ClientError.connectionClosed(broker: broker)
        }
        return try decode(received)
    }

    /// The decoded response; ``ClientError/timedOut(broker:)`` when none came within `timeout`,
    /// and `CancellationError` as soon as the calling task is cancelled. Either way the wait
    /// ends without the connection closing (a response that comes later is dropped), so a
    /// peer that never answers (paused, or behind a cut link) cannot hold the caller.
    public func get(timeout: Duration) async throws -> Response {
        let loop = frame.eventLoop
        let first = loop.makePromise(of: ResponseFrame.self)
        frame.cascade(to: first)
        let broker = broker
        let timer = loop.scheduleTask(in: Self.timeAmount(timeout)) { first.fail(ClientError.timedOut(broker: broker)) }
        first.futureResult.whenComplete { _ in timer.cancel() }
        let received: ResponseFrame
        do {
            // Completing a promise that is already complete does nothing: the first of the
            // response, the timer and the cancellation wins.
            received = try await withTaskCancellationHandler {
                try await first.futureResult.get()
            } onCancel: {
                first.fail(CancellationError())
            }
        } catch let error as ClientError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ClientError.connectionClosed(broker: broker)
        }
        return try decode(received).response
    }

    private func decode(_ frame: ResponseFrame) throws -> (response: Response, receivedAt: ContinuousClock.Instant) {
        var received = frame
        let header = try ResponseHeader(from: &received.bytes, version: headerVersion)
        guard header.correlationId == correlationId else {
            throw ClientError.correlationMismatch(expected: correlationId, received: header.correlationId)
        }
        return (try Response(from: &received.bytes, version: version), received.receivedAt)
    }

    /// `duration` for NIO's timers, saturating rather than overflowing.
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return .zero }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, carried) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return .nanoseconds(overflow || carried ? .max : total)
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
