/// Swift names for spec names: properties in lowerCamelCase, keywords escaped.
enum Naming {
    private static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "func", "import", "init", "inout",
        "internal", "let", "operator", "private", "protocol", "public", "static", "struct", "subscript",
        "typealias", "var", "break", "case", "continue", "default", "defer", "do", "else", "fallthrough",
        "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while", "as", "catch",
        "false", "is", "nil", "rethrows", "super", "self", "throw", "throws", "true", "try",
    ]

    /// Names that generated code uses unqualified; a spec struct must not shadow them.
    static let reservedTypeNames: Set<String> = [
        "String", "Bool", "Double", "ByteBuffer", "Uuid", "TaggedField", "Int8", "Int16", "Int32",
        "Int64", "UInt16", "UInt32", "UInt64", "Type", "Self", "Array", "Optional", "ProtocolError",
        "ApiKey", "Never", "Int", "StaticString",
    ]

    /// The property name for a field: `TopicData` becomes `topicData`.
    static func property(_ name: String) -> String {
        guard let first = name.first else { return name }
        var result = first.lowercased() + name.dropFirst()
        // Leading acronyms in a few spec names ("ISR...") stay readable enough lowercased once.
        if result.isEmpty { result = name }
        return result
    }

    /// The property name escaped for use as a declaration or bare identifier.
    static func identifier(_ name: String) -> String {
        let property = property(name)
        return keywords.contains(property) ? "`\(property)`" : property
    }

    /// A Swift string literal.
    static func literal(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }

    /// The enum case name for an API: `ProduceRequest` becomes `produce`.
    static func apiCase(_ requestName: String) -> String {
        property(String(requestName.dropLast("Request".count)))
    }
}
