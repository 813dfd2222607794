import NIOCore

/// Pairs each response frame with the request written before it: Kafka answers the requests of
/// one connection in order, so a FIFO of promises is all the matching needed.
final class ResponseMatcher: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Never
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = ByteBuffer

    /// A request frame and the promise its response completes.
    struct PendingRequest: Sendable {
        var frame: ByteBuffer
        var response: EventLoopPromise<ByteBuffer>
    }

    private var waiting = CircularBuffer<EventLoopPromise<ByteBuffer>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(request.response)
        context.write(wrapOutboundOut(request.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let promise = waiting.popFirst() else {
            context.close(promise: nil)
            return
        }
        promise.succeed(frame)
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
