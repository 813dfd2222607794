import NIOCore

/// Splits a byte stream into Kafka frames: a big-endian int32 size followed by that many bytes.
///
/// The size is checked against `maximumFrameSize` (Kafka's `socket.request.max.bytes`) before
/// anything is buffered for the frame, so an oversized or negative size is rejected at once with
/// ``ProtocolError/frameTooLarge(size:limit:)`` or ``ProtocolError/invalidLength(_:)``. Each
/// emitted frame is a slice of the input without the size prefix.
public struct KafkaFrameDecoder: ByteToMessageDecoder, NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Kafka's default `socket.request.max.bytes`: 100 MiB.
    public static let defaultMaximumFrameSize = 104_857_600

    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = KafkaFrameDecoder.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else {
            return nil
        }
        guard size >= 0 else { throw ProtocolError.invalidLength(Int64(size)) }
        guard Int(size) <= maximumFrameSize else {
            throw ProtocolError.frameTooLarge(size: Int(size), limit: maximumFrameSize)
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try decode(buffer: &buffer)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try decode(buffer: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
