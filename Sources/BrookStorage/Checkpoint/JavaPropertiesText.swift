/// The subset of Java's `.properties` text format that `meta.properties` uses.
///
/// Reading follows `java.util.Properties.load`: leading whitespace is skipped; blank lines and
/// lines starting with `#` or `!` are comments; the key ends at the first unescaped `=`, `:` or
/// whitespace; the value is the rest after that separator (trailing whitespace trimmed, which
/// Java keeps); a line ending in an odd number of backslashes continues on the next line;
/// `\t \n \r \f \uXXXX` are unescaped and any other escaped character stands for itself. A later
/// duplicate key replaces an earlier one.
///
/// Writing emits `key=value` lines, escaping what reading would otherwise misread.
///
/// Pure functions; safe from any thread.
enum JavaPropertiesText {
    /// A line that cannot be read, with its 1-based number.
    struct MalformedLine: Error, Equatable {
        var line: Int
        var text: String
    }

    static func parse(_ text: String) throws(MalformedLine) -> [String: String] {
        let physical = text.split(
            omittingEmptySubsequences: false,
            whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        var properties: [String: String] = [:]
        var index = 0
        while index < physical.count {
            let firstLine = index + 1
            var logical = String(physical[index].drop(while: isBlank))
            index += 1
            if logical.isEmpty || logical.hasPrefix("#") || logical.hasPrefix("!") { continue }
            while endsWithContinuation(logical) {
                logical.removeLast()
                guard index < physical.count else { break }
                logical += physical[index].drop(while: isBlank)
                index += 1
            }
            guard let (key, value) = split(logical) else {
                throw MalformedLine(line: firstLine, text: String(physical[firstLine - 1]))
            }
            properties[key] = value
        }
        return properties
    }

    /// Renders comment lines, then `key=value` lines in key order.
    static func render(_ properties: [String: String], comments: [String]) -> String {
        var text = ""
        for comment in comments {
            text += comment.isEmpty ? "#\n" : "# \(comment)\n"
        }
        for key in properties.keys.sorted() {
            text += escape(key, isKey: true) + "=" + escape(properties[key]!, isKey: false) + "\n"
        }
        return text
    }

    private static func isBlank(_ character: Character) -> Bool {
        character == " " || character == "\t" || character == "\u{0C}"
    }

    private static func endsWithContinuation(_ line: String) -> Bool {
        var count = 0
        for character in line.reversed() {
            guard character == "\\" else { break }
            count += 1
        }
        return count % 2 == 1
    }

    /// Splits a logical line into unescaped key and value; nil on a bad escape.
    private static func split(_ line: String) -> (String, String)? {
        let characters = Array(line)
        var position = 0
        var rawKey: [Character] = []
        while position < characters.count {
            let character = characters[position]
            if character == "\\", position + 1 < characters.count {
                rawKey.append(character)
                rawKey.append(characters[position + 1])
                position += 2
                continue
            }
            if character == "=" || character == ":" || isBlank(character) { break }
            rawKey.append(character)
            position += 1
        }
        // Separator: blanks, at most one '=' or ':', blanks.
        while position < characters.count, isBlank(characters[position]) { position += 1 }
        if position < characters.count, characters[position] == "=" || characters[position] == ":" {
            position += 1
        }
        while position < characters.count, isBlank(characters[position]) { position += 1 }
        var rawValue = Array(characters[position...])
        while let last = rawValue.last, isBlank(last), !(rawValue.count >= 2 && rawValue[rawValue.count - 2] == "\\") {
            rawValue.removeLast()
        }
        guard let key = unescape(rawKey), let value = unescape(rawValue) else { return nil }
        return (key, value)
    }

    private static func unescape(_ characters: [Character]) -> String? {
        var result = ""
        var position = 0
        while position < characters.count {
            let character = characters[position]
            position += 1
            guard character == "\\" else {
                result.append(character)
                continue
            }
            guard position < characters.count else { return result }
            let escaped = characters[position]
            position += 1
            switch escaped {
            case "t": result.append("\t")
            case "n": result.append("\n")
            case "r": result.append("\r")
            case "f": result.append("\u{0C}")
            case "u":
                guard position + 4 <= characters.count,
                    let code = UInt32(String(characters[position..<position + 4]), radix: 16),
                    let scalar = Unicode.Scalar(code)
                else { return nil }
                result.unicodeScalars.append(scalar)
                position += 4
            default: result.append(escaped)
            }
        }
        return result
    }

    private static func escape(_ text: String, isKey: Bool) -> String {
        var result = ""
        for (offset, character) in text.enumerated() {
            switch character {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{0C}": result += "\\f"
            case "=", ":": result += isKey ? "\\\(character)" : String(character)
            case "#", "!": result += offset == 0 ? "\\\(character)" : String(character)
            case " ": result += isKey || offset == 0 ? "\\ " : " "
            default: result.append(character)
            }
        }
        // Trailing blanks would be trimmed by the reader: escape the last one.
        if !isKey, result.hasSuffix(" "), !result.hasSuffix("\\ ") {
            result.removeLast()
            result += "\\ "
        }
        return result
    }
}
