/// An indent-aware text buffer for emitting Swift source.
public struct CodeWriter {
    private(set) public var text = ""
    private var depth = 0
    private let unit = "    "

    public init() {}

    /// Writes one line at the current indentation (an empty string writes a blank line).
    public mutating func line(_ content: String = "") {
        if content.isEmpty {
            text += "\n"
        } else {
            text += String(repeating: unit, count: depth) + content + "\n"
        }
    }

    /// Writes `opening`, the body one level deeper, then `closing`.
    public mutating func block(_ opening: String, closing: String = "}", _ body: (inout CodeWriter) throws -> Void) rethrows {
        line(opening)
        depth += 1
        try body(&self)
        depth -= 1
        line(closing)
    }

    /// Writes a doc comment, wrapping long text at about 100 columns.
    public mutating func doc(_ content: String) {
        let width = max(40, 100 - depth * unit.count - 4)
        for paragraph in content.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            for word in paragraph.split(separator: " ") {
                if !current.isEmpty, current.count + word.count + 1 > width {
                    line("/// " + current)
                    current = ""
                }
                current += current.isEmpty ? String(word) : " " + word
            }
            line(current.isEmpty ? "///" : "/// " + current)
        }
    }
}
