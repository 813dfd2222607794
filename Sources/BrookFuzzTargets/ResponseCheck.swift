import BrookBroker
import BrookProtocol
import Foundation
import NIOCore

/// What every response must be: one frame whose size prefix covers it exactly, with the
/// request's correlation id, and whose body decodes in full as the response of the request's
/// API at the version it was answered in.
enum ResponseCheck {
    static func check(_ response: ByteBuffer, to frame: RequestFrame, router: RequestRouter) throws(FuzzFailure) {
        var response = response
        let name = "\(frame.apiKey?.name ?? "API \(frame.apiKeyValue)") v\(frame.apiVersion)"
        guard let size = response.readInteger(as: Int32.self) else { throw FuzzFailure("\(name): response without a size") }
        try fuzzCheck(Int(size) == response.readableBytes,
                                   "\(name): response size \(size) but \(response.readableBytes) bytes follow")
        guard let api = frame.apiKey else { throw FuzzFailure("\(name): an unknown API was answered") }
        // An ApiVersions request of a version not served is answered in v0 (KIP-511).
        let version = api == .apiVersions && !router.serves(key: api.rawValue, version: frame.apiVersion) ? 0 : frame.apiVersion
        let header: ResponseHeader
        do {
            header = try ResponseHeader(from: &response, version: api.responseHeaderVersion(version))
        } catch {
            throw FuzzFailure("\(name): the response header does not decode: \(error)")
        }
        try fuzzCheck(header.correlationId == frame.header.correlationId,
                                   "\(name): correlation id \(header.correlationId), expected \(frame.header.correlationId)")
        try decodes(api.requestType.responseType, response, version: version, name)
    }

    private static func decodes<Response: KafkaResponse>(
        _: Response.Type, _ body: ByteBuffer, version: Int16, _ name: String
    ) throws(FuzzFailure) {
        var body = body
        do {
            _ = try Response(from: &body, version: version)
        } catch {
            throw FuzzFailure("\(name): the broker's response does not decode: \(error)")
        }
        try fuzzCheck(body.readableBytes == 0, "\(name): \(body.readableBytes) bytes after the response")
    }

    /// The bytes of a response sent in parts, file regions read from their files.
    static func assemble(_ parts: [IOData]) throws(FuzzFailure) -> ByteBuffer {
        var output = ByteBuffer()
        for part in parts {
            switch part {
            case .byteBuffer(var buffer):
                output.writeBuffer(&buffer)
            case .fileRegion(let region):
                let count = region.readableBytes
                var bytes = [UInt8](repeating: 0, count: count)
                let read = try? region.fileHandle.withUnsafeFileDescriptor { descriptor in
                    bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(region.readerIndex)) }
                }
                try fuzzCheck(read == count, "a file region of \(count) bytes reads \(String(describing: read))")
                output.writeBytes(bytes)
            }
        }
        return output
    }
}
