import NIOCore

/// A request as it arrives: its header, decoded, and its body, still encoded.
///
/// The body stays a slice of the frame so that a router can pick the handler by API key before
/// decoding it, and so that a request for an unknown API or version can still be answered with
/// the header's correlation id.
public struct RequestFrame: Sendable {
    /// The raw API key; not every key is one this build knows.
    public var apiKeyValue: Int16
    public var apiVersion: Int16
    public var header: RequestHeader
    /// The header version the frame was decoded with.
    public var headerVersion: Int16
    /// The encoded request body.
    public var body: ByteBuffer

    /// The API, if this build knows it.
    public var apiKey: ApiKey? { ApiKey(rawValue: apiKeyValue) }

    /// Decodes the header of a frame (without its size prefix).
    ///
    /// An unknown API key or an unsupported version is not an error here: the header is decoded
    /// as v1, which every client can be answered from, and the caller decides what to reply.
    public init(frame: ByteBuffer) throws(ProtocolError) {
        var buffer = frame
        guard let key = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int16.self),
              let version = buffer.getInteger(at: buffer.readerIndex + 2, endianness: .big, as: Int16.self) else {
            throw .truncated(needed: 4, available: buffer.readableBytes)
        }
        let headerVersion: Int16
        if let api = ApiKey(rawValue: key), api.validVersions.contains(version) {
            headerVersion = api.requestHeaderVersion(version)
        } else {
            headerVersion = 1
        }
        self.apiKeyValue = key
        self.apiVersion = version
        self.header = try RequestHeader(from: &buffer, version: headerVersion)
        self.headerVersion = headerVersion
        self.body = buffer
    }

    /// Decodes the body as `Request`; throws if the API or version does not match.
    public func decode<Request: KafkaRequest>(_: Request.Type) throws(ProtocolError) -> Request {
        guard apiKeyValue == Request.apiKey.rawValue else { throw .unknownApiKey(apiKeyValue) }
        var body = self.body
        return try Request(from: &body, version: apiVersion)
    }
}

extension ByteBuffer {
    /// Writes a complete request frame: size prefix, header and body.
    public mutating func writeRequestFrame<Request: KafkaRequest>(
        _ request: Request, version: Int16, correlationId: Int32, clientId: String?
    ) throws(ProtocolError) {
        let header = RequestHeader(
            requestApiKey: Request.apiKey.rawValue, requestApiVersion: version,
            correlationId: correlationId, clientId: clientId
        )
        try writeFramed { (buffer: inout ByteBuffer) throws(ProtocolError) in
            try header.write(to: &buffer, version: Request.apiKey.requestHeaderVersion(version))
            try request.write(to: &buffer, version: version)
        }
    }

    /// Writes a complete response frame: size prefix, header and body.
    public mutating func writeResponseFrame<Response: KafkaResponse>(
        _ response: Response, version: Int16, correlationId: Int32
    ) throws(ProtocolError) {
        let header = ResponseHeader(correlationId: correlationId)
        try writeFramed { (buffer: inout ByteBuffer) throws(ProtocolError) in
            try header.write(to: &buffer, version: Response.apiKey.responseHeaderVersion(version))
            try response.write(to: &buffer, version: version)
        }
    }

    /// Writes a 4-byte size prefix followed by what `body` writes.
    public mutating func writeFramed(_ body: (inout ByteBuffer) throws(ProtocolError) -> Void) throws(ProtocolError) {
        let sizeIndex = writerIndex
        writeInteger(Int32(0))
        try body(&self)
        setInteger(Int32(writerIndex - sizeIndex - 4), at: sizeIndex)
    }
}
