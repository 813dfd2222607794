@testable import BrookBroker
import NIOCore
import NIOEmbedded
import Testing

/// `queued.max.request.bytes`: requests take their size from a shared pool when their size
/// prefix arrives, give it back when answered, and a connection at a request boundary stops
/// reading while the pool is exhausted.
@Suite struct RequestMemoryGateTests {
    /// Counts the `read()` calls that reach the socket.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Never
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    private func frame(_ size: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(size))
        buffer.writeRepeatingByte(7, count: size)
        return buffer
    }

    private func connection(pool: RequestMemoryPool, maximumFrameSize: Int = 1 << 20) throws
        -> (EmbeddedChannel, RequestMemoryGate, ReadCounter)
    {
        let counter = ReadCounter()
        let gate = RequestMemoryGate(memory: ConnectionRequestMemory(pool: pool), maximumFrameSize: maximumFrameSize)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(gate)
        return (channel, gate, counter)
    }

    @Test func eachRequestTakesItsSizeUntilAnswered() throws {
        let pool = RequestMemoryPool(capacity: 1_000)
        let (channel, gate, _) = try connection(pool: pool)
        try channel.writeInbound(frame(96))
        #expect(pool.available == 900)
        #expect(gate.memory.held == 100)
        gate.memory.release(100)
        #expect(pool.available == 1_000)
        _ = try channel.finish()
    }

    @Test func framesSplitAcrossReadsAreFollowed() throws {
        let pool = RequestMemoryPool(capacity: 10_000)
        let (channel, _, _) = try connection(pool: pool)
        var bytes = frame(300)
        bytes.writeImmutableBuffer(frame(500))
        // Every split of two frames, prefix bytes included: each is taken once.
        for chunk in stride(from: 0, to: bytes.readableBytes, by: 3) {
            let slice = bytes.getSlice(at: chunk, length: min(3, bytes.readableBytes - chunk))!
            try channel.writeInbound(slice)
        }
        #expect(pool.available == 10_000 - 304 - 504)
        _ = try channel.finish()
        #expect(pool.available == 10_000, "closing gives back what the connection held")
    }

    @Test func anExhaustedPoolHoldsReadsAtTheBoundaryUntilBytesComeBack() throws {
        let pool = RequestMemoryPool(capacity: 100)
        let (first, firstGate, _) = try connection(pool: pool)
        let (second, _, secondReads) = try connection(pool: pool)
        // A request larger than the pool is admitted while anything is left, overdrawing it.
        try first.writeInbound(frame(196))
        #expect(pool.available == -100)
        // The other connection, at a boundary, stops reading.
        second.pipeline.fireChannelReadComplete()
        let before = secondReads.reads
        second.read()
        #expect(secondReads.reads == before, "read() is held while the pool is exhausted")
        // The first request is answered: its bytes come back and the held read goes out.
        firstGate.memory.release(200)
        second.embeddedEventLoop.run()
        #expect(secondReads.reads == before + 1)
        _ = try first.finish()
        _ = try second.finish()
    }

    @Test func aRequestAlreadyArrivingIsReadToItsEnd() throws {
        let pool = RequestMemoryPool(capacity: 100)
        let (channel, _, reads) = try connection(pool: pool)
        let whole = frame(500)
        try channel.writeInbound(whole.getSlice(at: 0, length: 10)!)
        #expect(pool.available == -404)
        channel.pipeline.fireChannelReadComplete()
        let before = reads.reads
        channel.read()
        #expect(reads.reads == before + 1, "mid-request, reading goes on so that the request can complete")
        _ = try channel.finish()
    }

    @Test func sizesTheDecoderRefusesAreNotTaken() throws {
        let pool = RequestMemoryPool(capacity: 1_000)
        let (channel, _, _) = try connection(pool: pool, maximumFrameSize: 50)
        var bytes = ByteBuffer()
        bytes.writeInteger(Int32(-5))
        bytes.writeInteger(Int32(51))
        try channel.writeInbound(bytes)
        #expect(pool.available == 1_000)
        _ = try channel.finish()
    }

    @Test func releasesAfterCloseAreIgnored() throws {
        let pool = RequestMemoryPool(capacity: 1_000)
        let (channel, gate, _) = try connection(pool: pool)
        try channel.writeInbound(frame(96))
        _ = try channel.finish()
        #expect(pool.available == 1_000)
        gate.memory.release(100)
        #expect(pool.available == 1_000)
    }
}

@Suite struct ConnectionLimiterTests {
    @Test func perAddressLimitsAndOverrides() {
        let limiter = ConnectionLimiter { ConnectionLimits(maxConnectionsPerIp: 2, perIpOverrides: ["10.0.0.9": 0, "10.0.0.8": 3]) }
        #expect(limiter.admit(address: "127.0.0.1"))
        #expect(limiter.admit(address: "127.0.0.1"))
        #expect(!limiter.admit(address: "127.0.0.1"))
        #expect(!limiter.admit(address: "10.0.0.9"))
        #expect((0..<3).allSatisfy { _ in limiter.admit(address: "10.0.0.8") })
        #expect(!limiter.admit(address: "10.0.0.8"))
        limiter.closed(address: "127.0.0.1")
        #expect(limiter.admit(address: "127.0.0.1"))
        #expect(limiter.openConnections == 5)
    }

    @Test func atMaxConnectionsAcceptingWaitsForAClose() async {
        let limiter = ConnectionLimiter { ConnectionLimits(maxConnections: 1) }
        await limiter.waitForCapacity()
        #expect(limiter.admit(address: "a"))
        let waited = Task { await limiter.waitForCapacity(); return limiter.openConnections }
        limiter.closed(address: "a")
        #expect(await waited.value == 0)
    }

    @Test func aCancelledWaitReturns() async {
        let limiter = ConnectionLimiter { ConnectionLimits(maxConnections: 0) }
        let waiting = Task { await limiter.waitForCapacity() }
        waiting.cancel()
        await waiting.value
    }

    @Test func overridesParseAsKafkaWritesThem() throws {
        #expect(try BrokerConfig.parsePerIpOverrides("hostName:100, 127.0.0.1:200,::1:5") == ["hostName": 100, "127.0.0.1": 200, "::1": 5])
        #expect(try BrokerConfig.parsePerIpOverrides("") == [:])
        #expect(throws: BrokerConfig.InvalidConfig.self) { try BrokerConfig.parsePerIpOverrides("127.0.0.1") }
        #expect(throws: BrokerConfig.InvalidConfig.self) { try BrokerConfig.parsePerIpOverrides("127.0.0.1:-1") }
    }
}
