/// kafka-configs' `--add-config` syntax: `k1=v1,k2=[a,b,c],k3=` — pairs separated by commas
/// outside square brackets, a value in brackets being a list whose brackets are dropped and
/// whose commas are kept, an empty value allowed.
enum ConfigAssignments {
    /// The pairs in the order given. Throws ``CommandFailure`` for a pair without `=` or for a
    /// key with characters other than letters, digits, '.', '_' and '-', as kafka-configs does.
    static func parse(_ text: String) throws -> [(key: String, value: String)] {
        var pairs: [(key: String, value: String)] = []
        for item in split(text, separator: ",") where !item.allSatisfy({ $0 == " " }) {
            let parts = split(item, separator: "=", limit: 2)
            guard parts.count == 2 else {
                throw CommandFailure("Invalid entity config: all configs to be added must be in the format \"key=val\".")
            }
            let key = parts[0].trimmingSpaces
            guard key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-_".contains($0)) }) else {
                throw CommandFailure("Invalid character found for config key: \(key)")
            }
            pairs.append((key, parts[1].filter { $0 != "[" && $0 != "]" }.trimmingSpaces))
        }
        return pairs
    }

    /// `--delete-config k1,k2` (and repeated flags): the keys, trimmed.
    static func keys(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces }.filter { !$0.isEmpty }
    }

    /// `text` split at `separator` where it is not inside square brackets, into at most `limit` parts.
    private static func split(_ text: String, separator: Character, limit: Int = .max) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "[" { depth += 1 }
            if character == "]" { depth = max(0, depth - 1) }
            if character == separator && depth == 0 && parts.count < limit - 1 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }
}
