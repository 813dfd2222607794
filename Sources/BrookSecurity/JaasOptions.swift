/// The `name="value"` options of a JAAS login module entry
/// (`LoginModule required a="1" b="2";`).
public enum JaasOptions {
    public struct Option: Equatable, Sendable {
        public let name: String
        public let value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The options by name; of an option given twice, the last.
    public static func values(_ text: String) -> [String: String] {
        Dictionary(parse(text).map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    public static func parse(_ text: String) -> [Option] {
        var options: [Option] = []
        var rest = Substring(text)
        while let equals = rest.firstIndex(of: "=") {
            let name = rest[..<equals].split(whereSeparator: { $0.isWhitespace }).last.map(String.init) ?? ""
            rest = rest[rest.index(after: equals)...].drop { $0.isWhitespace }
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(character); escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { break } else { value.append(character) }
                }
            } else {
                let end = rest.firstIndex(where: { $0.isWhitespace || $0 == ";" }) ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            if !name.isEmpty { options.append(Option(name: name, value: value)) }
        }
        return options
    }
}
