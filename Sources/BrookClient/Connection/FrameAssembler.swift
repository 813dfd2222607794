import BrookProtocol
import NIOCore

/// Splits the bytes a broker sends into Kafka frames (a 4-byte big-endian size, then that many
/// bytes), handing each frame on without its size prefix.
///
/// A frame that arrived whole in one read is passed on as a slice of that read, with no copy. A
/// frame spread over several reads (a Fetch response of a megabyte usually is) is copied once
/// into a buffer of exactly its size, allocated when its size is known: no buffer grows, and no
/// bytes are moved to join pieces. `ByteToMessageHandler` with ``KafkaFrameDecoder`` does the
/// same job with a growing buffer, and joining pieces that way cost consumers about 9% of their
/// CPU.
final class FrameAssembler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let maximumFrameSize: Int
    /// The first bytes of a size prefix that did not arrive whole.
    private var sizePrefix: [UInt8] = []
    /// The frame being filled, and how many of its bytes are still to come.
    private var partial: (frame: ByteBuffer, missing: Int)?
    private var failed = false

    init(maximumFrameSize: Int = KafkaFrameDecoder.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var input = unwrapInboundIn(data)
        do {
            try assemble(&input, context: context)
        } catch {
            failed = true
            context.fireErrorCaught(error)
        }
    }

    private func assemble(_ input: inout ByteBuffer, context: ChannelHandlerContext) throws {
        if var (frame, missing) = partial {
            partial = nil  // the frame stays uniquely referenced while it is written to
            let piece = min(missing, input.readableBytes)
            frame.writeImmutableBuffer(input.readSlice(length: piece)!)
            missing -= piece
            guard missing == 0 else {
                partial = (frame, missing)
                return
            }
            context.fireChannelRead(wrapInboundOut(frame))
        }
        if !sizePrefix.isEmpty {
            let piece = min(4 - sizePrefix.count, input.readableBytes)
            sizePrefix += input.readBytes(length: piece)!
            guard sizePrefix.count == 4 else { return }
            let size = try checkedSize(sizePrefix.reduce(0) { $0 << 8 | Int32($1) })
            sizePrefix = []
            try start(size: size, from: &input, context: context)
        }
        while input.readableBytes >= 4 {
            let size = try checkedSize(input.readInteger(as: Int32.self)!)
            try start(size: size, from: &input, context: context)
            if partial != nil { return }
        }
        if input.readableBytes > 0 {
            sizePrefix = input.readBytes(length: input.readableBytes)!
        }
    }

    /// Passes on a frame of `size` bytes that starts at the input's reader index, or begins
    /// filling one when the input holds only its start.
    private func start(size: Int, from input: inout ByteBuffer, context: ChannelHandlerContext) throws {
        if input.readableBytes >= size {
            context.fireChannelRead(wrapInboundOut(input.readSlice(length: size)!))
            return
        }
        var frame = context.channel.allocator.buffer(capacity: size)
        frame.writeBuffer(&input)
        partial = (frame, size - frame.readableBytes)
    }

    private func checkedSize(_ size: Int32) throws -> Int {
        guard size >= 0 else { throw ProtocolError.invalidLength(Int64(size)) }
        guard Int(size) <= maximumFrameSize else { throw ProtocolError.frameTooLarge(size: Int(size), limit: maximumFrameSize) }
        return Int(size)
    }
}
