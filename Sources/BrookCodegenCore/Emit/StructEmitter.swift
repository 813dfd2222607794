/// Emits one Swift struct with its stored properties, memberwise initialiser, decoder and encoder.
struct StructEmitter {
    let model: StructModel
    /// The message's flexible versions.
    let flexible: Versions
    /// The conformance list, e.g. "KafkaRequest" for a message or "ProtocolStruct" for a nested one.
    let conformance: String
    /// Declarations to place first in the struct body (static metadata of a message).
    let preamble: [String]
    /// Whether decoding starts with a check that the version is valid.
    let checksVersion: Bool
    /// The message's structs' minimum sizes, which bound array counts when decoding.
    let sizes: MinimumEncodedSize

    private var context: Versions { model.versions }
    private var conditions: VersionCondition { VersionCondition(context: context) }
    private var flexibleCondition: String { conditions.condition(for: flexible) }
    private var hasTaggedSection: Bool { flexibleCondition != "false" }
    private var codings: [FieldCoding] {
        model.fields.map { FieldCoding(field: $0, flexible: flexible, context: context, sizes: sizes) }
    }
    private var taggedCodings: [FieldCoding] {
        codings.filter(\.field.isTagged).sorted { $0.field.tag! < $1.field.tag! }
    }

    func emit(into writer: inout CodeWriter, about: String?) throws {
        if let about { writer.doc(about) }
        try writer.block("public struct \(model.name): \(conformance) {") { writer in
            for line in preamble { writer.line(line) }
            if !preamble.isEmpty { writer.line() }
            try emitProperties(into: &writer)
            try emitInitializer(into: &writer)
            writer.line()
            emitDecoder(into: &writer)
            writer.line()
            try emitEncoder(into: &writer)
        }
    }

    // MARK: Properties

    private func emitProperties(into writer: inout CodeWriter) throws {
        for coding in codings {
            var doc = coding.field.about ?? coding.field.name
            var notes = ["Versions \(coding.field.versions)"]
            if !coding.field.nullableVersions.isEmpty { notes.append("nullable \(coding.field.nullableVersions)") }
            if let tag = coding.field.tag { notes.append("tag \(tag) in \(coding.field.taggedVersions)") }
            if let entity = coding.field.entityType { notes.append("entity \(entity)") }
            if coding.field.mapKey { notes.append("map key") }
            if coding.field.ignorable { notes.append("ignorable") }
            doc += "\n\n" + notes.joined(separator: "; ") + "."
            writer.doc(doc)
            writer.line("public var \(coding.propertyName): \(coding.swiftType) = \(try coding.defaultExpression())")
        }
        if hasTaggedSection {
            writer.doc("Tagged fields this build does not know, kept so the struct re-encodes byte for byte.")
            writer.line("public var unknownTaggedFields: [TaggedField] = []")
        }
        writer.line()
    }

    private func emitInitializer(into writer: inout CodeWriter) throws {
        writer.doc("Creates a value; every field defaults to its spec default.")
        if codings.isEmpty {
            writer.line("public init() {}")
            return
        }
        writer.line("public init(")
        for (index, coding) in codings.enumerated() {
            let separator = index == codings.count - 1 ? "" : ","
            writer.line("    \(coding.propertyName): \(coding.swiftType) = \(try coding.defaultExpression())\(separator)")
        }
        writer.block(") {") { writer in
            for coding in codings {
                writer.line("self.\(Naming.property(coding.field.name)) = \(coding.propertyName)")
            }
        }
    }

    // MARK: Decoding

    private func emitDecoder(into writer: inout CodeWriter) {
        writer.block("public init(from buffer: inout ByteBuffer, version: Int16) throws(ProtocolError) {") { writer in
            if checksVersion {
                writer.block("guard Self.validVersions.contains(version) else {") { writer in
                    writer.line("throw .unsupportedVersion(message: Self.messageName, version: version)")
                }
            }
            for coding in codings {
                let regular = coding.field.regularVersions
                let condition = conditions.condition(for: regular)
                guard condition != "false" else { continue }
                let read = coding.readExpression(buffer: "buffer", versions: regular.intersecting(context), tagged: false)
                let assignment = "self.\(Naming.property(coding.field.name)) = \(read)"
                if condition == "true" {
                    writer.line(assignment)
                } else {
                    writer.block("if \(condition) {") { $0.line(assignment) }
                }
            }
            guard hasTaggedSection else { return }
            let body: (inout CodeWriter) -> Void = { writer in emitTaggedDecoder(into: &writer) }
            if flexibleCondition == "true" {
                body(&writer)
            } else {
                writer.block("if \(flexibleCondition) {", body)
            }
        }
    }

    private func emitTaggedDecoder(into writer: inout CodeWriter) {
        writer.line("let taggedFieldCount = try buffer.readUnsignedVarint()")
        writer.block("for _ in 0..<taggedFieldCount {") { writer in
            writer.line("let (tag, value) = try buffer.readTaggedField()")
            let known = taggedCodings.filter { conditions.condition(for: $0.field.taggedVersions) != "false" }
            if known.isEmpty {
                writer.line("self.unknownTaggedFields.append(TaggedField(tag: tag, data: value))")
                return
            }
            writer.block("switch tag {", closing: "}") { writer in
                for coding in known {
                    let tagged = coding.field.taggedVersions.intersecting(context)
                    let condition = conditions.condition(for: coding.field.taggedVersions)
                    let guardClause = condition == "true" ? "" : " where \(condition)"
                    writer.line("case \(coding.field.tag!)\(guardClause):")
                    writer.line("    var field = value")
                    writer.line("    self.\(Naming.property(coding.field.name)) = \(coding.readExpression(buffer: "field", versions: tagged, tagged: true))")
                }
                writer.line("default:")
                writer.line("    self.unknownTaggedFields.append(TaggedField(tag: tag, data: value))")
            }
        }
    }

    // MARK: Encoding

    private func emitEncoder(into writer: inout CodeWriter) throws {
        writer.block("public func write(to buffer: inout ByteBuffer, version: Int16) throws(ProtocolError) {") { writer in
            if checksVersion {
                writer.block("guard Self.validVersions.contains(version) else {") { writer in
                    writer.line("throw .unsupportedVersion(message: Self.messageName, version: version)")
                }
            }
            for coding in codings {
                emitRegularWrite(coding, into: &writer)
            }
            guard hasTaggedSection else { return }
            let body: (inout CodeWriter) -> Void = { writer in emitTaggedEncoder(into: &writer) }
            if flexibleCondition == "true" {
                body(&writer)
            } else {
                writer.block("if \(flexibleCondition) {", body)
            }
        }
    }

    private func emitRegularWrite(_ coding: FieldCoding, into writer: inout CodeWriter) {
        let field = coding.field
        let regular = field.regularVersions
        let condition = conditions.condition(for: regular)
        let property = "self.\(Naming.property(field.name))"
        let write = coding.writeStatement(value: property, buffer: "buffer", versions: regular.intersecting(context), tagged: false)
        // Versions in which the field is neither regular nor tagged may not carry a non-default value.
        let absent = conditions.condition(for: field.versions) == "true" ? "false" : "true"
        let mustCheck = !field.ignorable && !field.isTagged && absent == "true"
        let defaultValue = (try? coding.defaultExpression()) ?? "nil"
        let check = "throw .fieldNotInVersion(field: \(Naming.literal(field.name)), version: version)"
        switch (condition, mustCheck) {
        case ("true", _):
            writer.line(write)
        case ("false", false):
            break
        case ("false", true):
            writer.block("if \(property) != \(defaultValue) {") { $0.line(check) }
        case (_, false):
            writer.block("if \(condition) {") { $0.line(write) }
        case (_, true):
            writer.line("if \(condition) {")
            writer.line("    \(write)")
            writer.line("} else if \(property) != \(defaultValue) {")
            writer.line("    \(check)")
            writer.line("}")
        }
    }

    private func emitTaggedEncoder(into writer: inout CodeWriter) {
        let present = taggedCodings.compactMap { coding -> (FieldCoding, String)? in
            let condition = conditions.condition(for: coding.field.taggedVersions)
            guard condition != "false" else { return nil }
            let property = "self.\(Naming.property(coding.field.name))"
            let defaultValue = (try? coding.defaultExpression()) ?? "nil"
            let differs = "\(property) != \(defaultValue)"
            return (coding, condition == "true" ? differs : "\(condition) && \(differs)")
        }
        if present.isEmpty {
            writer.line("buffer.writeUnsignedVarint(UInt64(self.unknownTaggedFields.count))")
            writer.line("var unknownIndex = 0")
            writer.line("buffer.writeUnknownTaggedFields(self.unknownTaggedFields, below: .max, from: &unknownIndex)")
            return
        }
        writer.line("var taggedFieldCount = self.unknownTaggedFields.count")
        for (_, condition) in present {
            writer.block("if \(condition) {") { $0.line("taggedFieldCount += 1") }
        }
        writer.line("buffer.writeUnsignedVarint(UInt64(taggedFieldCount))")
        writer.line("var unknownIndex = 0")
        for (coding, condition) in present {
            let tag = coding.field.tag!
            let tagged = coding.field.taggedVersions.intersecting(context)
            let write = coding.writeStatement(value: "self.\(Naming.property(coding.field.name))", buffer: "field", versions: tagged, tagged: true)
            writer.block("if \(condition) {") { writer in
                writer.line("buffer.writeUnknownTaggedFields(self.unknownTaggedFields, below: \(tag), from: &unknownIndex)")
                writer.block("try buffer.writeTaggedField(tag: \(tag)) { (field: inout ByteBuffer) throws(ProtocolError) in") { writer in
                    writer.line(write)
                }
            }
        }
        writer.line("buffer.writeUnknownTaggedFields(self.unknownTaggedFields, below: .max, from: &unknownIndex)")
    }
}
