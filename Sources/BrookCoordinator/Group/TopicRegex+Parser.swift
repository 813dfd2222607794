/// The syntax tree of a ``TopicRegex``.
indirect enum TopicRegexNode: Sendable {
    case empty
    case scalars(ScalarSet)
    case assertion(TopicRegex.Assertion)
    case concatenation([TopicRegexNode])
    case alternation([TopicRegexNode])
    /// `node` at least `minimum` times and at most `maximum` (nil: no limit).
    case repetition(TopicRegexNode, minimum: Int, maximum: Int?)
}

/// Parses RE2 syntax (the subset ``TopicRegex`` documents) by recursive descent. Errors name
/// the problem as RE2 does ("missing closing )", "invalid escape sequence", ...).
struct TopicRegexParser {
    /// RE2's limit on `{n,m}` counts.
    static let maximumRepeatCount = 1_000

    struct Flags {
        var caseInsensitive = false
        var multiLine = false
        var dotMatchesNewline = false
    }

    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var flags = Flags()
    private var depth = 0

    init(_ pattern: String) { scalars = Array(pattern.unicodeScalars) }

    mutating func parse() throws(TopicRegexError) -> TopicRegexNode {
        let node = try parseAlternation()
        if position < scalars.count {
            throw TopicRegexError("unexpected ): \(String(String.UnicodeScalarView(scalars)))")
        }
        return node
    }

    private var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private mutating func next() -> Unicode.Scalar? {
        guard position < scalars.count else { return nil }
        defer { position += 1 }
        return scalars[position]
    }

    private mutating func parseAlternation() throws(TopicRegexError) -> TopicRegexNode {
        var branches = [try parseConcatenation()]
        while peek == "|" {
            position += 1
            branches.append(try parseConcatenation())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseConcatenation() throws(TopicRegexError) -> TopicRegexNode {
        var items: [TopicRegexNode] = []
        while let scalar = peek, scalar != "|", scalar != ")" {
            let start = position
            guard let atom = try parseAtom() else { continue }
            var node = atom
            var repeated = false
            while let (minimum, maximum) = try parseQuantifier() {
                if repeated {
                    throw TopicRegexError("bad repetition operator: \(text(from: start))")
                }
                repeated = true
                if peek == "?" { position += 1 }  // lazy: the same strings match
                node = .repetition(node, minimum: minimum, maximum: maximum)
            }
            items.append(node)
        }
        return items.count == 1 ? items[0] : items.isEmpty ? .empty : .concatenation(items)
    }

    /// `*`, `+`, `?` or a well-formed `{n}`, `{n,}`, `{n,m}` (a `{` that is not one is a literal).
    private mutating func parseQuantifier() throws(TopicRegexError) -> (Int, Int?)? {
        switch peek {
        case "*": position += 1; return (0, nil)
        case "+": position += 1; return (1, nil)
        case "?": position += 1; return (0, 1)
        case "{": return try parseRepeatCount()
        default: return nil
        }
    }

    private mutating func parseRepeatCount() throws(TopicRegexError) -> (Int, Int?)? {
        let start = position
        position += 1
        func number() -> Int? {
            var value: Int?
            while let scalar = peek, (0x30...0x39).contains(scalar.value) {
                value = min((value ?? 0) * 10 + Int(scalar.value - 0x30), Int(Int32.max))
                position += 1
            }
            return value
        }
        guard let minimum = number() else { position = start; return nil }
        var maximum: Int? = minimum
        if peek == "," {
            position += 1
            maximum = number()
        }
        guard peek == "}" else { position = start; return nil }
        position += 1
        if minimum > Self.maximumRepeatCount || (maximum ?? 0) > Self.maximumRepeatCount || (maximum.map { $0 < minimum } ?? false) {
            throw TopicRegexError("invalid repeat count: \(text(from: start))")
        }
        return (minimum, maximum)
    }

    /// One atom; nil for a flag group such as `(?i)`, which matches nothing itself.
    private mutating func parseAtom() throws(TopicRegexError) -> TopicRegexNode? {
        let start = position
        guard let scalar = next() else { return .empty }
        switch scalar {
        case "(":
            return try parseGroup(start: start)
        case "[":
            return .scalars(try parseClass(start: start))
        case ".":
            return .scalars(flags.dotMatchesNewline ? .any : .anyButNewline)
        case "^":
            return .assertion(flags.multiLine ? .beginLine : .beginText)
        case "$":
            return .assertion(flags.multiLine ? .endLine : .endText)
        case "\\":
            return try parseEscape(start: start)
        case "*", "+", "?":
            throw TopicRegexError("missing argument to repetition operator: \(scalar)")
        case "{":
            position = start
            if try parseRepeatCount() != nil {
                throw TopicRegexError("missing argument to repetition operator: \(text(from: start))")
            }
            position = start + 1
            return literal(scalar)
        default:
            return literal(scalar)
        }
    }

    private func literal(_ scalar: Unicode.Scalar) -> TopicRegexNode {
        .scalars(flags.caseInsensitive ? ScalarSet.single(scalar).caseFolded() : .single(scalar))
    }

    private mutating func parseGroup(start: Int) throws(TopicRegexError) -> TopicRegexNode? {
        depth += 1
        guard depth <= 1_000 else { throw TopicRegexError("expression nests too deeply") }
        defer { depth -= 1 }
        let saved = flags
        if peek == "?" {
            position += 1
            switch peek {
            case ":":
                position += 1
            case "P", "<":
                if peek == "P" { position += 1 }
                guard next() == "<" else { throw TopicRegexError("invalid named capture: \(text(from: start))") }
                var name = ""
                while let scalar = next(), scalar != ">" { name.unicodeScalars.append(scalar) }
                guard scalars[position - 1] == ">", !name.isEmpty,
                      name.unicodeScalars.allSatisfy({ ScalarSet.isWord($0) }) else {
                    throw TopicRegexError("invalid named capture: \(text(from: start))")
                }
            default:
                // Flags: (?flags) for the rest of the group, or (?flags:re).
                var negate = false
                var updated = flags
                while true {
                    guard let scalar = next() else { throw TopicRegexError("missing closing ): \(text(from: start))") }
                    switch scalar {
                    case "i": updated.caseInsensitive = !negate
                    case "m": updated.multiLine = !negate
                    case "s": updated.dotMatchesNewline = !negate
                    case "U": break  // ungreedy: the same strings match
                    case "-" where !negate: negate = true
                    case ")":
                        flags = updated
                        return nil
                    case ":":
                        flags = updated
                        let node = try parseAlternation()
                        guard next() == ")" else { throw TopicRegexError("missing closing ): \(text(from: start))") }
                        flags = saved
                        return node
                    default:
                        throw TopicRegexError("invalid or unsupported Perl syntax: \(text(from: start))")
                    }
                }
            }
        }
        let node = try parseAlternation()
        guard next() == ")" else { throw TopicRegexError("missing closing ): \(text(from: start))") }
        flags = saved
        return node
    }

    private mutating func parseEscape(start: Int) throws(TopicRegexError) -> TopicRegexNode {
        guard let scalar = peek else { throw TopicRegexError("trailing backslash at end of expression") }
        switch scalar {
        case "A": position += 1; return .assertion(.beginText)
        case "z": position += 1; return .assertion(.endText)
        case "b": position += 1; return .assertion(.wordBoundary)
        case "B": position += 1; return .assertion(.notWordBoundary)
        case "Q":
            position += 1
            var items: [TopicRegexNode] = []
            while let scalar = next() {
                if scalar == "\\" && peek == "E" {
                    position += 1
                    break
                }
                items.append(literal(scalar))
            }
            return .concatenation(items)
        default:
            let set = try parseClassEscape(start: start)
            return .scalars(flags.caseInsensitive ? set.caseFolded() : set)
        }
    }

    /// An escape that stands for a set of scalars (after the backslash): `\d \w \s` and
    /// negations, control characters, `\x..`, and escaped punctuation.
    private mutating func parseClassEscape(start: Int) throws(TopicRegexError) -> ScalarSet {
        guard let scalar = next() else { throw TopicRegexError("trailing backslash at end of expression") }
        switch scalar {
        case "d": return .digit
        case "D": return ScalarSet(ranges: ScalarSet.digit.ranges, negated: true)
        case "w": return .word
        case "W": return ScalarSet(ranges: ScalarSet.word.ranges, negated: true)
        case "s": return .space
        case "S": return ScalarSet(ranges: ScalarSet.space.ranges, negated: true)
        case "t": return .single("\t")
        case "n": return .single("\n")
        case "r": return .single("\r")
        case "f": return .single("\u{0C}")
        case "v": return .single("\u{0B}")
        case "a": return .single("\u{07}")
        case "x":
            var digits = ""
            if peek == "{" {
                position += 1
                while let scalar = next(), scalar != "}" { digits.unicodeScalars.append(scalar) }
                guard scalars[position - 1] == "}" else { throw TopicRegexError("invalid escape sequence: \(text(from: start))") }
            } else {
                for _ in 0..<2 { if let scalar = next() { digits.unicodeScalars.append(scalar) } }
            }
            guard !digits.isEmpty, digits.count <= 8, let value = UInt32(digits, radix: 16), let decoded = Unicode.Scalar(value) else {
                throw TopicRegexError("invalid escape sequence: \(text(from: start))")
            }
            return .single(decoded)
        case "p", "P":
            throw TopicRegexError("invalid character class range: Unicode classes are not supported: \(text(from: start))")
        default:
            guard scalar.isASCII, !scalar.properties.isAlphabetic, !(0x30...0x39).contains(scalar.value) else {
                throw TopicRegexError("invalid escape sequence: \(text(from: start))")
            }
            return .single(scalar)
        }
    }

    private static let posixClasses: [String: [ClosedRange<UInt32>]] = [
        "alnum": [0x30...0x39, 0x41...0x5A, 0x61...0x7A], "alpha": [0x41...0x5A, 0x61...0x7A], "ascii": [0x00...0x7F],
        "blank": [0x09...0x09, 0x20...0x20], "cntrl": [0x00...0x1F, 0x7F...0x7F], "digit": [0x30...0x39],
        "graph": [0x21...0x7E], "lower": [0x61...0x7A], "print": [0x20...0x7E],
        "punct": [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E], "space": [0x09...0x0D, 0x20...0x20],
        "upper": [0x41...0x5A], "word": [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A],
        "xdigit": [0x30...0x39, 0x41...0x46, 0x61...0x66],
    ]

    /// A bracketed class, after its `[`.
    private mutating func parseClass(start: Int) throws(TopicRegexError) -> ScalarSet {
        var set = ScalarSet()
        if peek == "^" {
            position += 1
            set.negated = true
        }
        var first = true
        while true {
            guard let scalar = next() else { throw TopicRegexError("missing closing ]: \(text(from: start))") }
            if scalar == "]" && !first { break }
            first = false
            if scalar == "[" && peek == ":", let end = posixClassEnd() {
                // [:name:] or [:^name:]; a "[:" without a closing ":]" is a literal "[".
                let classStart = position - 1
                var name = String(String.UnicodeScalarView(scalars[(position + 1)..<end]))
                position = end + 2
                let negated = name.hasPrefix("^")
                if negated { name.removeFirst() }
                guard let ranges = Self.posixClasses[name] else {
                    throw TopicRegexError("invalid character class range: \(text(from: classStart))")
                }
                set.ranges += negated ? ScalarSet(ranges: ranges).inverted() : ranges
                continue
            }
            let lower: Unicode.Scalar
            if scalar == "\\" {
                let escaped = try parseClassEscape(start: position - 1)
                guard !escaped.negated, escaped.ranges.count == 1, escaped.ranges[0].count == 1 else {
                    set.ranges += escaped.negated ? escaped.inverted() : escaped.ranges
                    continue
                }
                lower = Unicode.Scalar(escaped.ranges[0].lowerBound)!
            } else {
                lower = scalar
            }
            guard peek == "-", position + 1 < scalars.count, scalars[position + 1] != "]" else {
                set.ranges.append(lower.value...lower.value)
                continue
            }
            position += 1
            let rangeStart = position
            guard var upper = next() else { throw TopicRegexError("missing closing ]: \(text(from: start))") }
            if upper == "\\" {
                let escaped = try parseClassEscape(start: rangeStart)
                guard !escaped.negated, escaped.ranges.count == 1, escaped.ranges[0].count == 1 else {
                    throw TopicRegexError("invalid character class range: \(text(from: rangeStart - 2))")
                }
                upper = Unicode.Scalar(escaped.ranges[0].lowerBound)!
            }
            guard lower.value <= upper.value else {
                throw TopicRegexError("invalid character class range: \(lower)-\(upper)")
            }
            set.ranges.append(lower.value...upper.value)
        }
        return flags.caseInsensitive ? set.caseFolded() : set
    }

    /// The index of the ":" of the ":]" closing a POSIX class whose ":" is at `position`.
    private func posixClassEnd() -> Int? {
        var index = position + 1
        while index + 1 < scalars.count {
            if scalars[index] == ":" && scalars[index + 1] == "]" { return index }
            index += 1
        }
        return nil
    }

    private func text(from start: Int) -> String {
        String(String.UnicodeScalarView(scalars[start..<min(position, scalars.count)]))
    }
}

/// Compiles a ``TopicRegexNode`` to Pike VM instructions.
struct TopicRegexCompiler {
    private(set) var program: [TopicRegex.Instruction] = []

    @discardableResult
    mutating func append(_ instruction: TopicRegex.Instruction) -> Int {
        program.append(instruction)
        return program.count - 1
    }

    private mutating func checkSize() throws(TopicRegexError) {
        if program.count > TopicRegex.maximumProgramSize {
            throw TopicRegexError("expression too large")
        }
    }

    mutating func emit(_ node: TopicRegexNode) throws(TopicRegexError) {
        try checkSize()
        switch node {
        case .empty:
            break
        case .scalars(let set):
            append(.scalars(set))
        case .assertion(let assertion):
            append(.assert(assertion))
        case .concatenation(let items):
            for item in items { try emit(item) }
        case .alternation(let branches):
            var jumps: [Int] = []
            for (index, branch) in branches.enumerated() {
                if index == branches.count - 1 {
                    try emit(branch)
                } else {
                    let split = append(.split(program.count + 1, -1))
                    try emit(branch)
                    jumps.append(append(.jump(-1)))
                    program[split] = .split(split + 1, program.count)
                }
            }
            for jump in jumps { program[jump] = .jump(program.count) }
        case .repetition(let inner, let minimum, let maximum):
            for _ in 0..<minimum { try emit(inner) }
            if let maximum {
                var splits: [Int] = []
                for _ in minimum..<maximum {
                    splits.append(append(.split(program.count + 1, -1)))
                    try emit(inner)
                }
                for split in splits { program[split] = .split(split + 1, program.count) }
            } else {
                let split = append(.split(program.count + 1, -1))
                try emit(inner)
                append(.jump(split))
                program[split] = .split(split + 1, program.count)
            }
        }
        try checkSize()
    }
}
