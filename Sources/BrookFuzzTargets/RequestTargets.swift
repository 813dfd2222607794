import BrookProtocol
import NIOCore

extension FuzzTarget {
    /// The request path up to the handlers: a byte stream split into frames, each frame's request
    /// header, and the body decoded as the request the header names.
    public static let frames = FuzzTarget(
        name: "frames",
        summary: "size-prefixed stream -> KafkaFrameDecoder -> RequestFrame (header) -> request decoder of its API/version"
    ) { bytes throws(FuzzFailure) in
        let (frames, _) = try RequestPath.frames(in: bytes)
        var outcome = FuzzOutcome.rejected
        for frame in frames {
            if try RequestPath.decode(frame) != nil { outcome = .accepted }
        }
        return outcome
    }

    /// Every API's request and response decoder at every valid version: byte 0 picks the API,
    /// byte 1 the version (low 7 bits) and request or response (high bit); the rest is the body.
    public static let request = FuzzTarget(
        name: "request",
        summary: "[api index][version index | 0x80 for the response][body] -> generated decoder, round trip"
    ) { bytes throws(FuzzFailure) in
        var input = FuzzInput(bytes)
        let api = ApiKey.allCases[Int(input.byte()) % ApiKey.allCases.count]
        let selector = input.byte()
        let versions = api.validVersions
        let version = versions.lowerBound + Int16(Int(selector & 0x7F) % versions.count)
        let body = ByteBuffer(bytes: input.rest())
        let decoded: (any ProtocolMessage)? = selector & 0x80 == 0
            ? try RoundTrip.check(api.requestType, body: body, version: version)
            : try RoundTrip.check(api.requestType.responseType, body: body, version: version)
        return decoded == nil ? .rejected : .accepted
    }
}

extension KafkaRequest {
    static var responseType: any KafkaResponse.Type { Response.self }
}

/// The steps a connection takes before it hands a request to a handler.
enum RequestPath {
    /// The fuzz harness's `socket.request.max.bytes`: inputs are far smaller.
    static let maximumFrameSize = 1 << 20

    /// The frames of `bytes` as ``KafkaFrameDecoder`` splits them, and whether it stopped at an
    /// error. The stream is also fed in two parts, as a socket may deliver it, and both ways must
    /// give the same frames.
    static func frames(in bytes: UnsafeRawBufferPointer) throws(FuzzFailure) -> ([ByteBuffer], failed: Bool) {
        let whole = split(ByteBuffer(bytes: bytes), then: nil)
        let cut = bytes.count / 3
        let parts = split(
            ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[..<cut])),
            then: ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[cut...])))
        try fuzzCheck(
            whole.failed == parts.failed && whole.0 == parts.0,
            "KafkaFrameDecoder splits the stream differently when it arrives in two parts")
        return whole
    }

    private static func split(_ first: ByteBuffer, then second: ByteBuffer?) -> ([ByteBuffer], failed: Bool) {
        var decoder = KafkaFrameDecoder(maximumFrameSize: maximumFrameSize)
        var buffer = first
        var frames: [ByteBuffer] = []
        var pending = second
        while true {
            do {
                if let frame = try decoder.decode(buffer: &buffer) {
                    frames.append(frame)
                    continue
                }
            } catch {
                return (frames, true)
            }
            guard var next = pending else { return (frames, false) }
            buffer.writeBuffer(&next)
            pending = nil
        }
    }

    /// The frame's header and, when its API and version are known, its body, checked: nil when
    /// the header is rejected.
    static func decode(_ bytes: ByteBuffer) throws(FuzzFailure) -> (RequestFrame, request: (any KafkaRequest)?)? {
        let frame: RequestFrame
        do {
            frame = try RequestFrame(frame: bytes)
        } catch {
            return nil
        }
        try fuzzCheck(
            frame.header.requestApiKey == frame.apiKeyValue && frame.header.requestApiVersion == frame.apiVersion,
            "the request header disagrees with the key and version RequestFrame read")
        guard let header = try RoundTrip.check(RequestHeader.self, body: bytes, version: frame.headerVersion) else {
            throw FuzzFailure("RequestFrame accepted a header that RequestHeader v\(frame.headerVersion) rejects")
        }
        try fuzzCheck(header == frame.header, "RequestFrame decoded another header than RequestHeader does")
        guard let api = frame.apiKey, api.validVersions.contains(frame.apiVersion) else { return (frame, nil) }
        return (frame, try RoundTrip.check(api.requestType, body: frame.body, version: frame.apiVersion))
    }
}
