@testable import BrookClient
import BrookProtocol
import NIOCore
import NIOEmbedded
import PropertyBased
import Testing

/// The client's framing of broker responses: every split of the byte stream gives the same frames.
@Suite struct FrameAssemblerTests {
    /// Frames of the given sizes, each filled with bytes that name the frame and the position.
    static func frames(_ sizes: [Int]) -> [ByteBuffer] {
        sizes.enumerated().map { index, size in
            ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0) })
        }
    }

    static func stream(_ frames: [ByteBuffer]) -> ByteBuffer {
        var stream = ByteBuffer()
        for frame in frames {
            stream.writeInteger(Int32(frame.readableBytes))
            stream.writeImmutableBuffer(frame)
        }
        return stream
    }

    /// Feeds `stream` in pieces ending at `cuts` and returns the frames passed on.
    static func assemble(_ stream: ByteBuffer, cuts: [Int], maximumFrameSize: Int = 1 << 20) throws -> [ByteBuffer] {
        let channel = EmbeddedChannel(handler: FrameAssembler(maximumFrameSize: maximumFrameSize))
        var start = 0
        for cut in (cuts.filter { $0 > 0 && $0 < stream.readableBytes }.sorted() + [stream.readableBytes]) where cut > start {
            try channel.writeInbound(stream.getSlice(at: start, length: cut - start)!)
            start = cut
        }
        var frames: [ByteBuffer] = []
        while let frame = try channel.readInbound(as: ByteBuffer.self) { frames.append(frame) }
        _ = try? channel.finish()
        return frames
    }

    @Test func everySplitGivesTheSameFrames() async {
        await propertyCheck(
            count: 300, input: Gen.int(in: 0...3_000).array(of: 1...8), Gen.int(in: 0...30_000).array(of: 0...12)
        ) { sizes, cuts in
            let frames = Self.frames(sizes)
            #expect((try? Self.assemble(Self.stream(frames), cuts: cuts)) == frames)
        }
    }

    @Test func splitsInsideTheSizePrefix() throws {
        let frames = Self.frames([0, 5, 1, 70_000, 2])
        let stream = Self.stream(frames)
        // A cut after every single byte: each prefix arrives in pieces, each frame byte by byte.
        #expect(try Self.assemble(stream, cuts: Array(1..<stream.readableBytes)) == frames)
        #expect(try Self.assemble(stream, cuts: [1, 2, 3, 6, 7, 8, 16, 17, 18]) == frames)
    }

    @Test func refusesNegativeAndOversizedFrames() throws {
        for size in [Int32(-1), 1_001] {
            let channel = EmbeddedChannel(handler: FrameAssembler(maximumFrameSize: 1_000))
            var bytes = ByteBuffer()
            bytes.writeInteger(size)
            bytes.writeBytes([1, 2, 3])
            #expect(throws: ProtocolError.self) { try channel.writeInbound(bytes) }
            // Nothing after the bad size is read as a frame.
            try channel.writeInbound(Self.stream(Self.frames([3])))
            #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
            _ = try? channel.finish()
        }
    }
}
