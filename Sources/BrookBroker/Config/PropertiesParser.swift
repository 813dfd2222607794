/// Parses Java `.properties` text, the format of Kafka's `server.properties`.
///
/// Supports `key=value`, `key:value` and `key value`, comments starting with `#` or `!`, blank
/// lines, backslash line continuations and the escapes `\t`, `\n`, `\\`, `\=`, `\:`. Later keys
/// override earlier ones.
enum PropertiesParser {
    static func parse(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var logicalLine = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let trimmedLeading = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
            if logicalLine.isEmpty, trimmedLeading.first == "#" || trimmedLeading.first == "!" { continue }
            let continues = trailingBackslashes(trimmedLeading) % 2 == 1
            logicalLine += continues ? String(trimmedLeading.dropLast()) : String(trimmedLeading)
            if continues { continue }
            if let (key, value) = split(logicalLine) { result[key] = value }
            logicalLine = ""
        }
        if let (key, value) = split(logicalLine) { result[key] = value }
        return result
    }

    private static func trailingBackslashes(_ line: Substring) -> Int {
        var count = 0
        for character in line.reversed() {
            guard character == "\\" else { break }
            count += 1
        }
        return count
    }

    private static func split(_ line: String) -> (String, String)? {
        guard !line.isEmpty else { return nil }
        var key = ""
        var index = line.startIndex
        var escaped = false
        while index < line.endIndex {
            let character = line[index]
            if escaped {
                key.append(unescape(character))
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "=" || character == ":" || character == " " || character == "\t" {
                break
            } else {
                key.append(character)
            }
            index = line.index(after: index)
        }
        var rest = line[index...].drop { $0 == " " || $0 == "\t" }
        if rest.first == "=" || rest.first == ":" { rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" } }
        var value = ""
        escaped = false
        for character in rest {
            if escaped {
                value.append(unescape(character))
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                value.append(character)
            }
        }
        return key.isEmpty ? nil : (key, value)
    }

    private static func unescape(_ character: Character) -> Character {
        switch character {
        case "t": "\t"
        case "n": "\n"
        case "r": "\r"
        case "f": "\u{0C}"
        default: character
        }
    }
}
