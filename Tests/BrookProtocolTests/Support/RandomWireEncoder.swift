import BrookModel
import BrookCodegenCore
import BrookProtocol
import NIOCore

/// Writes random but valid encodings of a message straight from its JSON definition.
///
/// This is an independent reading of the spec — it shares no code with the generated decoders —
/// so that decoding these bytes and encoding the result again checks the generated code against
/// the definition rather than against itself. Known tagged fields are only written with values
/// that differ from their default (the encoder omits default-valued tagged fields), and unknown
/// tagged fields with random tags are mixed in to check that they are preserved.
struct RandomWireEncoder {
    let spec: MessageSpec
    let structs: [String: [FieldSpec]]
    var random: SplitMix64

    init(spec: MessageSpec, seed: UInt64) {
        self.spec = spec
        self.structs = spec.structDeclarations()
        self.random = SplitMix64(seed: seed)
    }

    mutating func message(version: Int16) -> ByteBuffer {
        var buffer = ByteBuffer()
        writeStruct(spec.fields, version: version, depth: 0, into: &buffer)
        return buffer
    }

    private var flexibleVersions: Versions { spec.flexibleVersions }

    private mutating func writeStruct(_ fields: [FieldSpec], version: Int16, depth: Int, into buffer: inout ByteBuffer) {
        let flexible = flexibleVersions.contains(version)
        for field in fields where field.versions.contains(version) {
            if flexible && field.isTagged && field.taggedVersions.contains(version) { continue }
            let compact = flexible && field.flexibleVersions?.isEmpty != true
            writeValue(field.type, field: field, nullable: field.nullableVersions.contains(version),
                       compact: compact, version: version, depth: depth, into: &buffer)
        }
        guard flexible else { return }
        var tagged: [(UInt32, ByteBuffer)] = []
        for field in fields where field.isTagged && field.taggedVersions.contains(version) && Bool.random(using: &random) {
            var defaultEncoding = ByteBuffer()
            writeDefault(field, version: version, into: &defaultEncoding)
            for _ in 0..<8 {
                var value = ByteBuffer()
                writeValue(field.type, field: field, nullable: field.nullableVersions.contains(version),
                           compact: true, version: version, depth: depth, into: &value)
                if value != defaultEncoding {
                    tagged.append((field.tag!, value))
                    break
                }
            }
        }
        let knownTags = Set(fields.compactMap(\.tag))
        for _ in 0..<Int.random(in: 0...1, using: &random) {
            let tag = UInt32.random(in: 0...200, using: &random)
            guard !knownTags.contains(tag), !tagged.contains(where: { $0.0 == tag }) else { continue }
            tagged.append((tag, randomBytes(maxLength: 6)))
        }
        tagged.sort { $0.0 < $1.0 }
        buffer.writeUnsignedVarint(UInt64(tagged.count))
        for (tag, value) in tagged {
            buffer.writeUnsignedVarint(UInt64(tag))
            buffer.writeUnsignedVarint(UInt64(value.readableBytes))
            buffer.writeImmutableBuffer(value)
        }
    }

    /// The encoding of a field's default value, which the generated encoder must omit.
    private func writeDefault(_ field: FieldSpec, version: Int16, into buffer: inout ByteBuffer) {
        let text = field.defaultValue
        switch field.type {
        case .bool: buffer.writeInteger(UInt8(text == "true" ? 1 : 0))
        case .int8: buffer.writeInteger(Int8(parseInteger(text)))
        case .int16: buffer.writeInteger(Int16(parseInteger(text)))
        case .int32: buffer.writeInteger(Int32(parseInteger(text)))
        case .int64: buffer.writeInteger(parseInteger(text))
        case .uint16: buffer.writeInteger(UInt16(parseInteger(text)))
        case .uint32: buffer.writeInteger(UInt32(parseInteger(text)))
        case .float64: buffer.writeInteger((Double(text ?? "0") ?? 0).bitPattern)
        case .uuid: buffer.writeInteger(UInt64(0)); buffer.writeInteger(UInt64(0))
        case .string, .bytes, .records, .array:
            if text == "null" {
                buffer.writeUnsignedVarint(0)
            } else if case .string = field.type {
                let bytes = Array((text ?? "").utf8)
                buffer.writeUnsignedVarint(UInt64(bytes.count + 1))
                buffer.writeBytes(bytes)
            } else {
                buffer.writeUnsignedVarint(1)
            }
        case .structure(let name):
            if text == "null" {
                buffer.writeInteger(Int8(-1))
                return
            }
            if field.nullableVersions.contains(version) { buffer.writeInteger(Int8(1)) }
            for nested in structs[name] ?? [] where nested.versions.contains(version) {
                if nested.isTagged && nested.taggedVersions.contains(version) { continue }
                writeDefault(nested, version: version, into: &buffer)
            }
            buffer.writeUnsignedVarint(0)
        }
    }

    private func parseInteger(_ text: String?) -> Int64 {
        guard let text, !text.isEmpty else { return 0 }
        if text.lowercased().hasPrefix("0x") { return Int64(text.dropFirst(2), radix: 16) ?? 0 }
        return Int64(text) ?? 0
    }

    private mutating func writeValue(
        _ type: FieldType, field: FieldSpec, nullable: Bool, compact: Bool, version: Int16, depth: Int,
        into buffer: inout ByteBuffer
    ) {
        let makeNull = nullable && random.next() % 5 == 0
        switch type {
        case .bool: buffer.writeInteger(UInt8(random.next() % 2))
        case .int8: buffer.writeInteger(Int8(truncatingIfNeeded: random.next()))
        case .int16: buffer.writeInteger(Int16(truncatingIfNeeded: random.next()))
        case .int32: buffer.writeInteger(Int32(truncatingIfNeeded: random.next()))
        case .int64: buffer.writeInteger(Int64(truncatingIfNeeded: random.next()))
        case .uint16: buffer.writeInteger(UInt16(truncatingIfNeeded: random.next()))
        case .uint32: buffer.writeInteger(UInt32(truncatingIfNeeded: random.next()))
        case .float64: buffer.writeInteger(Double.random(in: -1e9...1e9, using: &random).bitPattern)
        case .uuid: buffer.writeInteger(random.next()); buffer.writeInteger(random.next())
        case .string:
            if makeNull { writeLength(nil, compact: compact, wide: false, into: &buffer); return }
            let bytes = Array(randomString().utf8)
            writeLength(bytes.count, compact: compact, wide: false, into: &buffer)
            buffer.writeBytes(bytes)
        case .bytes, .records:
            if makeNull { writeLength(nil, compact: compact, wide: true, into: &buffer); return }
            let bytes = randomBytes(maxLength: 12)
            writeLength(bytes.readableBytes, compact: compact, wide: true, into: &buffer)
            buffer.writeImmutableBuffer(bytes)
        case .array(let element):
            if makeNull { writeLength(nil, compact: compact, wide: true, into: &buffer); return }
            let count = depth > 3 ? 0 : Int(random.next() % 3)
            writeLength(count, compact: compact, wide: true, into: &buffer)
            for _ in 0..<count {
                writeValue(element, field: field, nullable: false, compact: compact, version: version, depth: depth + 1, into: &buffer)
            }
        case .structure(let name):
            if nullable {
                if makeNull { buffer.writeInteger(Int8(-1)); return }
                buffer.writeInteger(Int8(1))
            }
            writeStruct(structs[name] ?? [], version: version, depth: depth + 1, into: &buffer)
        }
    }

    private func writeLength(_ length: Int?, compact: Bool, wide: Bool, into buffer: inout ByteBuffer) {
        if compact {
            buffer.writeUnsignedVarint(length.map { UInt64($0 + 1) } ?? 0)
        } else if wide {
            buffer.writeInteger(Int32(length ?? -1))
        } else {
            buffer.writeInteger(Int16(length ?? -1))
        }
    }

    private mutating func randomString() -> String {
        let alphabet = Array("abcxyz-_.09ÅßΩ€🙂")
        let length = Int(random.next() % 9)
        return String((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
    }

    private mutating func randomBytes(maxLength: Int) -> ByteBuffer {
        let length = Int(random.next() % UInt64(maxLength + 1))
        var buffer = ByteBuffer()
        for _ in 0..<length { buffer.writeInteger(UInt8(truncatingIfNeeded: random.next())) }
        return buffer
    }
}
