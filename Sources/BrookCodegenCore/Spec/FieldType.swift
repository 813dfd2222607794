/// The type of a field in a message definition.
public indirect enum FieldType: Equatable, Sendable, CustomStringConvertible {
    case bool, int8, int16, int32, int64, uint16, uint32, float64
    case string, bytes, uuid, records
    case array(FieldType)
    case structure(String)

    public init(parsing text: String) {
        if text.hasPrefix("[]") {
            self = .array(FieldType(parsing: String(text.dropFirst(2))))
            return
        }
        switch text {
        case "bool": self = .bool
        case "int8": self = .int8
        case "int16": self = .int16
        case "int32": self = .int32
        case "int64": self = .int64
        case "uint16": self = .uint16
        case "uint32": self = .uint32
        case "float64": self = .float64
        case "string": self = .string
        case "bytes": self = .bytes
        case "uuid": self = .uuid
        case "records": self = .records
        default: self = .structure(text)
        }
    }

    /// Whether the spec allows this type to be null in some version.
    public var canBeNullable: Bool {
        switch self {
        case .string, .bytes, .records, .array, .structure: true
        default: false
        }
    }

    public var isArray: Bool {
        if case .array = self { return true }
        return false
    }

    public var structName: String? {
        switch self {
        case .structure(let name): name
        case .array(let element): element.structName
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .bool: "bool"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .float64: "float64"
        case .string: "string"
        case .bytes: "bytes"
        case .uuid: "uuid"
        case .records: "records"
        case .array(let element): "[]\(element)"
        case .structure(let name): name
        }
    }
}
