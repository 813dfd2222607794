/// A Kafka UUID: 16 bytes on the wire, big-endian most significant half first.
///
/// Topic ids, directory ids and the like. `Uuid.zero` is Kafka's "no id" (`ZERO_UUID`).
public struct Uuid: Hashable, Sendable, CustomStringConvertible {
    public var mostSignificantBits: UInt64
    public var leastSignificantBits: UInt64

    public init(mostSignificantBits: UInt64, leastSignificantBits: UInt64) {
        self.mostSignificantBits = mostSignificantBits
        self.leastSignificantBits = leastSignificantBits
    }

    /// The all-zero UUID that Kafka uses for "unset".
    public static let zero = Uuid(mostSignificantBits: 0, leastSignificantBits: 0)

    /// A random (version 4) UUID.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> Uuid {
        var msb = UInt64.random(in: .min ... .max, using: &generator)
        var lsb = UInt64.random(in: .min ... .max, using: &generator)
        msb = (msb & ~0xF000) | 0x4000
        lsb = (lsb & ~(0xC000_0000_0000_0000 as UInt64)) | 0x8000_0000_0000_0000
        return Uuid(mostSignificantBits: msb, leastSignificantBits: lsb)
    }

    /// A random (version 4) UUID from the system generator.
    public static func random() -> Uuid {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// Kafka's textual form: URL-safe base64 of the 16 bytes, without padding.
    public var description: String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: mostSignificantBits >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: leastSignificantBits >> UInt64(shift))) }
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = UInt32(bytes[index])
            let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let triple = (b0 << 16) | (b1 << 8) | b2
            out.append(alphabet[Int((triple >> 18) & 63)])
            out.append(alphabet[Int((triple >> 12) & 63)])
            if remaining > 1 { out.append(alphabet[Int((triple >> 6) & 63)]) }
            if remaining > 2 { out.append(alphabet[Int(triple & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
