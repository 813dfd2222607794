import BrookProtocol
import NIOCore

/// The check every decoded message gets: it re-encodes, its encoding decodes in full, and
/// encoding that again gives the same bytes.
///
/// The comparison is on bytes rather than values: an input may use non-canonical encodings (a
/// boolean 2, an overlong varint) that re-encode differently, and a float64 field may hold NaN,
/// which is not equal to itself.
enum RoundTrip {
    /// Decodes `Message` at `version` from `body`: nil if it is rejected, else the message, once
    /// checked. Bytes left after the message are allowed (Kafka ignores them too).
    static func check<Message: ProtocolMessage>(
        _: Message.Type, body: ByteBuffer, version: Int16
    ) throws(FuzzFailure) -> Message? {
        var input = body
        let message: Message
        do {
            message = try Message(from: &input, version: version)
        } catch {
            return nil
        }
        let name = "\(Message.messageName) v\(version)"
        let first = try encode(message, version: version, name)
        var again = first
        let decoded: Message
        do {
            decoded = try Message(from: &again, version: version)
        } catch {
            throw FuzzFailure("\(name) does not decode its own encoding: \(error)")
        }
        try fuzzCheck(again.readableBytes == 0, "\(name) leaves \(again.readableBytes) bytes of its own encoding")
        let second = try encode(decoded, version: version, name)
        try fuzzCheck(first == second, "\(name) re-encodes differently after a round trip")
        return message
    }

    static func encode<Message: ProtocolMessage>(
        _ message: Message, version: Int16, _ name: String
    ) throws(FuzzFailure) -> ByteBuffer {
        do {
            return try message.encoded(version: version)
        } catch {
            throw FuzzFailure("\(name) decoded but does not re-encode: \(error)")
        }
    }
}
