/// A 128-bit id in Kafka's text form: 22 characters of URL-safe base64 without padding
/// (alphabet `A-Z a-z 0-9 - _`), e.g. `MkU3OEVBNTcwNTJENDM2Qg`. Cluster ids and log
/// directory ids in `meta.properties` use it.
///
/// The 16 bytes are the big-endian `mostSignificantBits` followed by `leastSignificantBits`.
/// Parsing is strict: exactly 22 characters from the alphabet, and the 4 unused bits of the
/// last character must be zero, so that every id has one spelling.
///
/// A plain `Sendable` value; safe from any thread.
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    public var mostSignificantBits: UInt64
    public var leastSignificantBits: UInt64

    public init(mostSignificantBits: UInt64, leastSignificantBits: UInt64) {
        self.mostSignificantBits = mostSignificantBits
        self.leastSignificantBits = leastSignificantBits
    }

    /// All zero bits: Kafka's "unassigned" directory id and never a valid cluster id.
    public static let zero = KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 0)

    /// Ids Kafka reserves (the first 100 values: unassigned, lost, migrating, ...); never
    /// generated and not accepted as a directory id.
    public var isReserved: Bool { mostSignificantBits == 0 && leastSignificantBits < 100 }

    /// The 16 bytes, most significant first.
    public var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(16)
        for word in [mostSignificantBits, leastSignificantBits] {
            for shift in stride(from: 56, through: 0, by: -8) {
                result.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return result
    }

    /// The 22-character base64url form.
    public var description: String {
        let input = bytes
        var output: [UInt8] = []
        output.reserveCapacity(22)
        var index = 0
        while index + 3 <= input.count {
            let group = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            output.append(Self.alphabet[Int(group >> 18 & 0x3F)])
            output.append(Self.alphabet[Int(group >> 12 & 0x3F)])
            output.append(Self.alphabet[Int(group >> 6 & 0x3F)])
            output.append(Self.alphabet[Int(group & 0x3F)])
            index += 3
        }
        // 16 = 5 * 3 + 1: one byte left, written as two characters.
        let last = UInt32(input[15])
        output.append(Self.alphabet[Int(last >> 2)])
        output.append(Self.alphabet[Int(last << 4 & 0x3F)])
        return String(decoding: output, as: UTF8.self)
    }

    /// Parses the 22-character base64url form; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let characters = Array(text.utf8)
        guard characters.count == 22 else { return nil }
        var values: [UInt32] = []
        values.reserveCapacity(22)
        for character in characters {
            guard let value = Self.value(of: character) else { return nil }
            values.append(value)
        }
        // The last character carries 2 bits of byte 15 and 4 unused bits.
        guard values[21] & 0xF == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var index = 0
        while index + 4 <= 20 {
            let group = values[index] << 18 | values[index + 1] << 12 | values[index + 2] << 6 | values[index + 3]
            bytes.append(UInt8(truncatingIfNeeded: group >> 16))
            bytes.append(UInt8(truncatingIfNeeded: group >> 8))
            bytes.append(UInt8(truncatingIfNeeded: group))
            index += 4
        }
        bytes.append(UInt8(truncatingIfNeeded: values[20] << 2 | values[21] >> 4))
        var most: UInt64 = 0
        var least: UInt64 = 0
        for byte in bytes[0..<8] { most = most << 8 | UInt64(byte) }
        for byte in bytes[8..<16] { least = least << 8 | UInt64(byte) }
        self.init(mostSignificantBits: most, leastSignificantBits: least)
    }

    /// A random version-4 id that is not reserved and whose text form does not start with `-`
    /// (so that it cannot be mistaken for a command-line option), as Kafka generates them.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> KafkaUUID {
        while true {
            var most = generator.next() as UInt64
            var least = generator.next() as UInt64
            most = (most & ~0xF000) | 0x4000  // version 4
            least = (least & ~(0b11 << 62)) | (0b10 << 62)  // IETF variant
            let id = KafkaUUID(mostSignificantBits: most, leastSignificantBits: least)
            if !id.isReserved && !id.description.hasPrefix("-") {
                return id
            }
        }
    }

    /// A random id from the system's secure generator.
    public static func random() -> KafkaUUID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static func value(of character: UInt8) -> UInt32? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(character - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(character - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(character - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
