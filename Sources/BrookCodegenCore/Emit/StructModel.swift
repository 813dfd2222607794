/// A struct to emit: the message itself or one of its nested structs, with the versions in which
/// it can be reached (the hull of all its uses), which lets the emitter prune version checks.
struct StructModel {
    let name: String
    let fields: [FieldSpec]
    var versions: Versions
}

/// Resolves a message's struct declarations (inline and `commonStructs`) and the versions in
/// which each is used.
struct StructRegistry {
    private(set) var structs: [String: StructModel] = [:]
    /// Nested struct names in declaration order.
    private(set) var order: [String] = []

    init(message: MessageSpec) throws {
        for common in message.commonStructs {
            try declare(common.name, fields: common.fields, in: message.name)
        }
        try collectDeclarations(message.fields, in: message.name)
        try markUses(message.fields, context: message.validVersions, path: [])
        for name in order where structs[name]!.versions.isEmpty {
            // Declared but never reachable in a valid version: still emit, decodable at no version.
            structs[name]!.versions = .none
        }
    }

    private mutating func declare(_ name: String, fields: [FieldSpec], in message: String) throws {
        if Naming.reservedTypeNames.contains(name) {
            throw SpecError.invalid("\(message): struct name \(name) would shadow a Swift type")
        }
        if structs[name] != nil {
            throw SpecError.invalid("\(message): struct \(name) is declared twice")
        }
        structs[name] = StructModel(name: name, fields: fields, versions: .none)
        order.append(name)
    }

    private mutating func collectDeclarations(_ fields: [FieldSpec], in message: String) throws {
        for field in fields {
            guard let nested = field.fields, let name = field.type.structName else { continue }
            try declare(name, fields: nested, in: message)
            try collectDeclarations(nested, in: message)
        }
    }

    private mutating func markUses(_ fields: [FieldSpec], context: Versions, path: [String]) throws {
        for field in fields {
            guard let name = field.type.structName else { continue }
            guard let model = structs[name] else {
                throw SpecError.invalid("unknown struct type \(name) of field \(field.name)")
            }
            if path.contains(name) { throw SpecError.invalid("struct \(name) contains itself") }
            let used = field.versions.intersecting(context)
            structs[name]!.versions = model.versions.hull(used)
            try markUses(model.fields, context: used, path: path + [name])
        }
    }
}
