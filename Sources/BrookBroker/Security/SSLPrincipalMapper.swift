import Foundation

/// Kafka's `ssl.principal.mapping.rules`: turns a client certificate's distinguished name
/// (RFC 2253, most specific part first, as Java writes it: `CN=alice,OU=eng,O=Acme,C=US`)
/// into the principal's name. Rules are tried in order, the first that matches wins:
/// `RULE:pattern/replacement/` (a regular expression over the whole name, `$1`... in the
/// replacement), optionally followed by `L` or `U` to lower- or upper-case the result, and
/// `DEFAULT`, which keeps the name as it is. No rule matching is an error.
struct SSLPrincipalMapper: Sendable {
    enum Rule: Sendable {
        case keep
        case replace(pattern: String, template: String, caseChange: Character?)
    }

    struct RulesError: Error, CustomStringConvertible {
        let description: String
    }

    let rules: [Rule]

    init(rules text: String) throws(RulesError) {
        var rules: [Rule] = []
        var rest = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        while !rest.isEmpty {
            if rest.hasPrefix("DEFAULT") {
                rules.append(.keep)
                rest = rest.dropFirst("DEFAULT".count)
            } else if rest.hasPrefix("RULE:") {
                rest = rest.dropFirst("RULE:".count)
                // pattern/replacement/ (a backslash escapes a slash), then an optional L or U.
                var parts: [String] = [""]
                var escaped = false
                while let character = rest.first, parts.count < 3 {
                    rest = rest.dropFirst()
                    if escaped {
                        parts[parts.count - 1].append(character == "/" ? "/" : "\\\(character)")
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "/" {
                        parts.append("")
                    } else {
                        parts[parts.count - 1].append(character)
                    }
                }
                guard parts.count == 3, parts[2].isEmpty else {
                    throw RulesError(description: "ssl.principal.mapping.rules: a RULE must be RULE:pattern/replacement/[LU], in '\(text)'")
                }
                var caseChange: Character?
                if let flag = rest.first, flag == "L" || flag == "U" {
                    caseChange = flag
                    rest = rest.dropFirst()
                }
                guard (try? NSRegularExpression(pattern: parts[0])) != nil else {
                    throw RulesError(description: "ssl.principal.mapping.rules: '\(parts[0])' is not a regular expression")
                }
                rules.append(.replace(pattern: parts[0], template: parts[1], caseChange: caseChange))
            } else {
                throw RulesError(description: "ssl.principal.mapping.rules: expected RULE: or DEFAULT at '\(rest.prefix(40))'")
            }
            rest = rest.drop { $0 == "," || $0.isWhitespace }
        }
        self.rules = rules.isEmpty ? [.keep] : rules
    }

    /// The principal name for `distinguishedName`; nil when no rule matches it.
    func name(for distinguishedName: String) -> String? {
        for rule in rules {
            switch rule {
            case .keep:
                return distinguishedName
            case .replace(let pattern, let template, let caseChange):
                guard let expression = try? NSRegularExpression(pattern: pattern) else { continue }
                let whole = NSRange(distinguishedName.startIndex..., in: distinguishedName)
                guard let match = expression.firstMatch(in: distinguishedName, range: whole), match.range == whole else { continue }
                let replaced = expression.replacementString(for: match, in: distinguishedName, offset: 0, template: template)
                switch caseChange {
                case "L": return replaced.lowercased()
                case "U": return replaced.uppercased()
                default: return replaced
                }
            }
        }
        return nil
    }
}
