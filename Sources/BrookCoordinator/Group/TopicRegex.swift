/// A consumer group's `SubscribedTopicRegex` (KIP-848), compiled once and matched in linear time.
///
/// Kafka compiles these with RE2J, whose matching time is linear in the topic name, so a member
/// cannot make the coordinator backtrack for ever with a pattern such as `(a+)+$`. This is a
/// small Thompson-NFA matcher (a Pike VM without captures) for the RE2 syntax a topic pattern
/// needs: literals and escapes, `.`, classes (`[a-z]`, `[^...]`, `\d \w \s` and their negations,
/// `[[:alpha:]]`), groups (`(...)`, `(?:...)`, `(?P<name>...)`), alternation, the quantifiers
/// `* + ? {n} {n,} {n,m}` (and their lazy forms), the anchors `^ $ \A \z \b \B` and the flags
/// `i`, `m`, `s`, `U`. What RE2 refuses (back-references, look-around, `**`, repeat counts above
/// 1,000) is refused here too, as is what this matcher lacks (`\p{...}` Unicode classes).
///
/// Matching is whole-string, as Kafka's `matcher(topic).matches()`: O(name length x program
/// size), with the program capped at ``maximumProgramSize`` instructions.
public struct TopicRegex: Sendable, Equatable {
    /// The longest pattern accepted.
    public static let maximumPatternLength = 1_024
    /// The most NFA instructions a pattern may compile to (counted repetition multiplies).
    public static let maximumProgramSize = 4_096

    public let pattern: String
    let program: [Instruction]

    public static func == (lhs: TopicRegex, rhs: TopicRegex) -> Bool { lhs.pattern == rhs.pattern }

    /// Compiles `pattern`; throws with RE2's kind of message when it is not a valid expression.
    public init(_ pattern: String) throws(TopicRegexError) {
        guard pattern.utf8.count <= Self.maximumPatternLength else {
            throw TopicRegexError("pattern longer than \(Self.maximumPatternLength) bytes")
        }
        var parser = TopicRegexParser(pattern)
        let node = try parser.parse()
        var compiler = TopicRegexCompiler()
        try compiler.emit(node)
        compiler.append(.match)
        self.pattern = pattern
        self.program = compiler.program
    }

    /// Whether the whole of `topic` matches.
    public func wholeMatch(_ topic: String) -> Bool {
        let input = Array(topic.unicodeScalars)
        var current = ThreadList(capacity: program.count)
        var next = ThreadList(capacity: program.count)
        addThread(&current, 0, at: 0, in: input)
        for position in 0..<input.count {
            if current.isEmpty { return false }
            let scalar = input[position]
            next.clear()
            for pc in current.items {
                if case .scalars(let set) = program[pc], set.contains(scalar) {
                    addThread(&next, pc + 1, at: position + 1, in: input)
                }
            }
            swap(&current, &next)
        }
        return current.items.contains { if case .match = program[$0] { true } else { false } }
    }

    /// Follows the empty transitions from `pc` at `position`, adding the threads that consume
    /// a scalar or match. Each instruction enters a list at most once per position.
    private func addThread(_ list: inout ThreadList, _ start: Int, at position: Int, in input: [Unicode.Scalar]) {
        var stack = [start]
        while let pc = stack.popLast() {
            guard list.insert(pc) else { continue }
            switch program[pc] {
            case .split(let first, let second):
                stack.append(second)
                stack.append(first)
            case .jump(let target):
                stack.append(target)
            case .assert(let assertion):
                if assertion.holds(at: position, in: input) { stack.append(pc + 1) }
            case .scalars, .match:
                list.keep(pc)
            }
        }
    }

    enum Instruction: Sendable {
        case scalars(ScalarSet)
        case split(Int, Int)
        case jump(Int)
        case assert(Assertion)
        case match
    }

    enum Assertion: Sendable {
        case beginText, endText, beginLine, endLine, wordBoundary, notWordBoundary

        func holds(at position: Int, in input: [Unicode.Scalar]) -> Bool {
            let before = position > 0 ? input[position - 1] : nil
            let after = position < input.count ? input[position] : nil
            switch self {
            case .beginText: return position == 0
            case .endText: return position == input.count
            case .beginLine: return before == nil || before == "\n"
            case .endLine: return after == nil || after == "\n"
            case .wordBoundary, .notWordBoundary:
                let isBoundary = (before.map(ScalarSet.isWord) ?? false) != (after.map(ScalarSet.isWord) ?? false)
                return self == .wordBoundary ? isBoundary : !isBoundary
            }
        }
    }

    /// A sparse set of program counters, in insertion order.
    struct ThreadList {
        private var seen: [Bool]
        private var touched: [Int] = []
        private(set) var items: [Int] = []

        init(capacity: Int) { seen = Array(repeating: false, count: capacity) }

        var isEmpty: Bool { items.isEmpty }

        mutating func insert(_ pc: Int) -> Bool {
            if seen[pc] { return false }
            seen[pc] = true
            touched.append(pc)
            return true
        }

        mutating func keep(_ pc: Int) { items.append(pc) }

        mutating func clear() {
            for pc in touched { seen[pc] = false }
            touched.removeAll(keepingCapacity: true)
            items.removeAll(keepingCapacity: true)
        }
    }
}

/// Why a `SubscribedTopicRegex` is not a valid regular expression.
public struct TopicRegexError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A set of scalars as sorted, non-overlapping closed ranges, possibly negated.
struct ScalarSet: Sendable, Equatable {
    var ranges: [ClosedRange<UInt32>] = []
    var negated = false

    static func single(_ scalar: Unicode.Scalar) -> ScalarSet { ScalarSet(ranges: [scalar.value...scalar.value]) }
    static let digit = ScalarSet(ranges: [0x30...0x39])
    static let word = ScalarSet(ranges: [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    static let space = ScalarSet(ranges: [0x09...0x0A, 0x0C...0x0D, 0x20...0x20])
    static let anyButNewline = ScalarSet(ranges: [0x0A...0x0A], negated: true)
    static let any = ScalarSet(ranges: [], negated: true)

    static func isWord(_ scalar: Unicode.Scalar) -> Bool { word.contains(scalar) }

    func contains(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        var found = false
        for range in ranges where range.contains(value) {
            found = true
            break
        }
        return found != negated
    }

    /// The set's ranges with both ASCII cases added (the `i` flag).
    func caseFolded() -> ScalarSet {
        var extra: [ClosedRange<UInt32>] = []
        for range in ranges {
            let upper = range.clamped(to: 0x41...0x5A)
            if !upper.isEmpty, range.overlaps(0x41...0x5A) { extra.append((upper.lowerBound + 32)...(upper.upperBound + 32)) }
            let lower = range.clamped(to: 0x61...0x7A)
            if !lower.isEmpty, range.overlaps(0x61...0x7A) { extra.append((lower.lowerBound - 32)...(lower.upperBound - 32)) }
        }
        return ScalarSet(ranges: ranges + extra, negated: negated)
    }

    /// The scalars not in `self`, as plain ranges (to put a negated class inside a class).
    func inverted() -> [ClosedRange<UInt32>] {
        guard negated else {
            var result: [ClosedRange<UInt32>] = []
            var next: UInt32 = 0
            for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
                next = max(next, range.upperBound == UInt32.max ? UInt32.max : range.upperBound + 1)
            }
            if next <= 0x10FFFF { result.append(next...0x10FFFF) }
            return result
        }
        return ranges
    }
}
