import NIOCore

/// Pairs each response frame with the request written before it: Kafka answers the requests of
/// one connection in order, so a FIFO of promises is all the matching needed. Requests that get
/// no answer (Produce with acks=0) carry no promise and take no place in the FIFO.
final class ResponseMatcher: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Never
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = ByteBuffer

    /// A request frame and the promise its response completes (nil when no response comes).
    struct PendingRequest: Sendable {
        var frame: ByteBuffer
        var response: EventLoopPromise<ResponseFrame>?
    }

    private var waiting = CircularBuffer<EventLoopPromise<ResponseFrame>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let response = request.response { waiting.append(response) }
        context.write(wrapOutboundOut(request.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let promise = waiting.popFirst() else {
            context.close(promise: nil)
            return
        }
        promise.succeed(ResponseFrame(bytes: frame, receivedAt: .now))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        while let promise = waiting.popFirst() { promise.fail(error) }
    }
}

/// A response frame (header and body, without the size prefix) and when it was read from the
/// socket, so that a caller awaiting it later still learns the true round-trip time.
struct ResponseFrame: Sendable {
    var bytes: ByteBuffer
    var receivedAt: ContinuousClock.Instant
}
