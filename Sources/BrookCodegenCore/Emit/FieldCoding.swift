/// The Swift type, default value and wire read/write expressions of one field.
struct FieldCoding {
    let field: FieldSpec
    /// The message's flexible versions.
    let flexible: Versions
    /// The versions in which the enclosing struct can be reached.
    let context: Versions
    /// The message's structs, for the minimum encoded size of array elements.
    var sizes: MinimumEncodedSize? = nil

    var propertyName: String { Naming.identifier(field.name) }

    /// Whether the Swift property is optional: the field is nullable in some reachable version.
    var isOptional: Bool {
        !field.nullableVersions.intersecting(field.versions).intersecting(context).isEmpty
            || (field.defaultValue == "null" && field.type.canBeNullable)
    }

    var swiftType: String {
        let base = Self.swiftType(field.type)
        return isOptional ? base + "?" : base
    }

    static func swiftType(_ type: FieldType) -> String {
        switch type {
        case .bool: "Bool"
        case .int8: "Int8"
        case .int16: "Int16"
        case .int32: "Int32"
        case .int64: "Int64"
        case .uint16: "UInt16"
        case .uint32: "UInt32"
        case .float64: "Double"
        case .string: "String"
        case .bytes, .records: "ByteBuffer"
        case .uuid: "Uuid"
        case .array(let element): "[\(swiftType(element))]"
        case .structure(let name): name
        }
    }

    /// The default value as a Swift expression.
    func defaultExpression() throws -> String {
        let text = field.defaultValue
        if text == "null" {
            guard isOptional else {
                throw SpecError.invalid("field \(field.name) defaults to null but is never nullable")
            }
            return "nil"
        }
        switch field.type {
        case .bool:
            guard let text, !text.isEmpty else { return "false" }
            guard text == "true" || text == "false" else { throw SpecError.invalid("bad bool default \(text)") }
            return text
        case .int8, .int16, .int32, .int64, .uint16, .uint32:
            guard let text, !text.isEmpty else { return "0" }
            return try Self.integerLiteral(text, field: field.name)
        case .float64:
            guard let text, !text.isEmpty else { return "0.0" }
            guard Double(text) != nil else { throw SpecError.invalid("bad float default \(text)") }
            return text.contains(".") ? text : text + ".0"
        case .string:
            return Naming.literal(text ?? "")
        case .bytes, .records:
            return "ByteBuffer()"
        case .uuid:
            return "Uuid.zero"
        case .array:
            return "[]"
        case .structure(let name):
            return "\(name)()"
        }
    }

    private static func integerLiteral(_ text: String, field: String) throws -> String {
        let lowered = text.lowercased()
        if lowered.hasPrefix("0x"), let value = Int64(lowered.dropFirst(2), radix: 16) { return String(value) }
        if lowered.hasPrefix("-0x"), let value = Int64(lowered.dropFirst(3), radix: 16) { return String(-value) }
        if let value = Int64(text) { return String(value) }
        throw SpecError.invalid("bad integer default \(text) for \(field)")
    }

    // MARK: Conditions

    /// Whether the field's strings, bytes and arrays use the compact encoding, in `versions`.
    func compactCondition(in versions: Versions, tagged: Bool) -> String {
        if tagged { return "true" }
        if let override = field.flexibleVersions, override.isEmpty { return "false" }
        return VersionCondition(context: versions).condition(for: flexible)
    }

    func nullableCondition(in versions: Versions) -> String {
        VersionCondition(context: versions).condition(for: field.nullableVersions)
    }

    // MARK: Reading

    /// An expression that reads the field from `buffer` in `versions` (the versions the read can
    /// happen in).
    func readExpression(buffer: String, versions: Versions, tagged: Bool) -> String {
        let compact = compactCondition(in: versions, tagged: tagged)
        let nullable = isOptional ? nullableCondition(in: versions) : "false"
        return read(field.type, buffer: buffer, versions: versions, compact: compact, nullable: nullable, depth: 0)
    }

    private func read(_ type: FieldType, buffer: String, versions: Versions, compact: String, nullable: String, depth: Int) -> String {
        let name = field.name
        let label = Naming.literal(name)
        switch type {
        case .bool: return "try \(buffer).readBool()"
        case .int8: return "try \(buffer).readInt8()"
        case .int16: return "try \(buffer).readInt16()"
        case .int32: return "try \(buffer).readInt32()"
        case .int64: return "try \(buffer).readInt64()"
        case .uint16: return "try \(buffer).readUInt16()"
        case .uint32: return "try \(buffer).readUInt32()"
        case .float64: return "try \(buffer).readFloat64()"
        case .uuid: return "try \(buffer).readUuid()"
        case .string:
            return nullable == "false"
                ? "try \(buffer).readString(compact: \(compact), field: \(label))"
                : "try \(buffer).readNullableString(compact: \(compact), nullable: \(nullable), field: \(label))"
        case .bytes, .records:
            return nullable == "false"
                ? "try \(buffer).readBytes(compact: \(compact), field: \(label))"
                : "try \(buffer).readNullableBytes(compact: \(compact), nullable: \(nullable), field: \(label))"
        case .structure(let structName):
            let body = "try \(structName)(from: &\(buffer), version: version)"
            if nullable == "false" { return body }
            let inner = "b\(depth)"
            return "try \(buffer).readNullableStruct(nullable: \(nullable), field: \(label)) { (\(inner): inout ByteBuffer) throws(ProtocolError) -> \(structName) in try \(structName)(from: &\(inner), version: version) }"
        case .array(let element):
            let inner = "b\(depth)"
            let elementRead = read(element, buffer: inner, versions: versions, compact: compact, nullable: "false", depth: depth + 1)
            let elementType = Self.swiftType(element)
            let closure = "{ (\(inner): inout ByteBuffer) throws(ProtocolError) -> \(elementType) in \(elementRead) }"
            let minimum = sizes?.smallest(element, field: field, in: versions) ?? 1
            let minimumArgument = minimum > 1 ? ", minimumElementSize: \(minimum)" : ""
            return nullable == "false"
                ? "try \(buffer).readArray(compact: \(compact)\(minimumArgument), field: \(label)) \(closure)"
                : "try \(buffer).readNullableArray(compact: \(compact), nullable: \(nullable)\(minimumArgument), field: \(label)) \(closure)"
        }
    }

    // MARK: Writing

    /// A statement that writes `value` (the field) to `buffer` in `versions`.
    func writeStatement(value: String, buffer: String, versions: Versions, tagged: Bool) -> String {
        let compact = compactCondition(in: versions, tagged: tagged)
        let nullable = isOptional ? nullableCondition(in: versions) : nil
        return Self.write(field.type, name: field.name, value: value, buffer: buffer, compact: compact, nullable: nullable, depth: 0)
    }

    /// `nullable` is nil when the Swift value is not optional.
    private static func write(_ type: FieldType, name: String, value: String, buffer: String, compact: String, nullable: String?, depth: Int) -> String {
        let label = Naming.literal(name)
        switch type {
        case .bool: return "\(buffer).writeBool(\(value))"
        case .int8: return "\(buffer).writeInt8(\(value))"
        case .int16: return "\(buffer).writeInt16(\(value))"
        case .int32: return "\(buffer).writeInt32(\(value))"
        case .int64: return "\(buffer).writeInt64(\(value))"
        case .uint16: return "\(buffer).writeUInt16(\(value))"
        case .uint32: return "\(buffer).writeUInt32(\(value))"
        case .float64: return "\(buffer).writeFloat64(\(value))"
        case .uuid: return "\(buffer).writeUuid(\(value))"
        case .string:
            guard let nullable else { return "\(buffer).writeString(\(value), compact: \(compact))" }
            return "try \(buffer).writeNullableString(\(value), compact: \(compact), nullable: \(nullable), field: \(label))"
        case .bytes, .records:
            guard let nullable else { return "\(buffer).writeBytes(\(value), compact: \(compact))" }
            return "try \(buffer).writeNullableBytes(\(value), compact: \(compact), nullable: \(nullable), field: \(label))"
        case .structure(let structName):
            guard let nullable else { return "try \(value).write(to: &\(buffer), version: version)" }
            let inner = "b\(depth)"
            let item = "v\(depth)"
            return "try \(buffer).writeNullableStruct(\(value), nullable: \(nullable), field: \(label)) { (\(inner): inout ByteBuffer, \(item): \(structName)) throws(ProtocolError) in try \(item).write(to: &\(inner), version: version) }"
        case .array(let element):
            let inner = "b\(depth)"
            let item = "v\(depth)"
            let elementWrite = write(element, name: name, value: item, buffer: inner, compact: compact, nullable: nil, depth: depth + 1)
            let closure = "{ (\(inner): inout ByteBuffer, \(item): \(swiftType(element))) throws(ProtocolError) in \(elementWrite) }"
            guard let nullable else { return "try \(buffer).writeArray(\(value), compact: \(compact)) \(closure)" }
            return "try \(buffer).writeNullableArray(\(value), compact: \(compact), nullable: \(nullable), field: \(label)) \(closure)"
        }
    }
}
