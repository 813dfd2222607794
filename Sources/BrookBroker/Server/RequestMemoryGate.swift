import NIOCore

/// Accounts a connection's requests against the broker's ``RequestMemoryPool``
/// (`queued.max.request.bytes`) and stops reading while the pool is exhausted.
///
/// Sits between the socket and the frame decoder and follows the frame boundaries of the byte
/// stream itself (a 4-byte size, then the body). Each request's size is taken from the pool
/// when its size prefix arrives; the request loop gives it back once the request is answered
/// (``ConnectionRequestMemory/release(_:)``). At a request boundary with the pool exhausted,
/// the gate holds the channel's `read()` until the pool has bytes again; a request already
/// arriving is always read to its end, so that it can be answered and give its bytes back.
/// Sizes the frame decoder will refuse (negative, or over `socket.request.max.bytes`) are not
/// taken: the decoder closes the connection. Every byte still held is returned when the
/// connection closes.
final class RequestMemoryGate: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = Never

    let memory: ConnectionRequestMemory
    private let maximumFrameSize: Int
    /// Body bytes of the current request still to come; 0 at a boundary.
    private var remainingInFrame = 0
    /// Bytes of the next size prefix seen so far (0–3 of them, at a boundary).
    private var prefix: [UInt8] = []
    private var waiterId: UInt64?
    private var pendingRead = false
    private var context: ChannelHandlerContext?

    init(memory: ConnectionRequestMemory, maximumFrameSize: Int) {
        self.memory = memory
        self.maximumFrameSize = maximumFrameSize
        prefix.reserveCapacity(4)
    }

    /// Whether reads are held until the pool has bytes again.
    var isPaused: Bool { waiterId != nil }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        account(bytes)
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        pauseIfExhausted(context: context)
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if isPaused {
            pendingRead = true
        } else {
            context.read()
        }
    }

    /// Walks the frame boundaries in `bytes`, taking each new request's size from the pool.
    private func account(_ bytes: ByteBuffer) {
        var position = bytes.readerIndex
        let end = bytes.writerIndex
        while position < end {
            if remainingInFrame > 0 {
                let step = min(remainingInFrame, end - position)
                remainingInFrame -= step
                position += step
                continue
            }
            prefix.append(bytes.getInteger(at: position, as: UInt8.self)!)
            position += 1
            guard prefix.count == 4 else { continue }
            let size = Int(Int32(bitPattern: UInt32(prefix[0]) << 24 | UInt32(prefix[1]) << 16 | UInt32(prefix[2]) << 8 | UInt32(prefix[3])))
            prefix.removeAll(keepingCapacity: true)
            guard size >= 0, size <= maximumFrameSize else { continue }  // the decoder refuses it
            memory.take(size + 4)
            remainingInFrame = size
        }
    }

    /// At a request boundary with the pool exhausted, holds reads until it has bytes again.
    private func pauseIfExhausted(context: ChannelHandlerContext) {
        guard remainingInFrame == 0, !isPaused else { return }
        let loop = context.eventLoop
        let gate = NIOLoopBound(self, eventLoop: loop)
        waiterId = memory.pool.waitUntilAvailable {
            loop.execute { gate.value.resume() }
        }
    }

    private func resume() {
        guard waiterId != nil else { return }
        waiterId = nil
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    private func finish() {
        if let waiterId {
            memory.pool.cancel(waiterId)
            self.waiterId = nil
        }
        memory.close()
    }
}
