/// A contiguous range of message versions as written in the JSON definitions: "0+", "3-7",
/// "5" or "none".
public struct Versions: Equatable, Sendable, CustomStringConvertible {
    /// The highest version an open range ("3+") stands for.
    public static let openEnd: Int16 = .max

    public let lowest: Int16
    public let highest: Int16

    public static let none = Versions(lowest: 0, highest: -1)
    public static let all = Versions(lowest: 0, highest: openEnd)

    public init(lowest: Int16, highest: Int16) {
        self.lowest = lowest
        self.highest = highest
    }

    /// Parses the spec syntax.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingWhitespace()
        if trimmed == "none" {
            self = .none
        } else if trimmed.hasSuffix("+"), let low = Int16(trimmed.dropLast()) {
            self.init(lowest: low, highest: Versions.openEnd)
        } else if let dash = trimmed.firstIndex(of: "-"),
                  let low = Int16(trimmed[..<dash]),
                  let high = Int16(trimmed[trimmed.index(after: dash)...]) {
            self.init(lowest: low, highest: high)
        } else if let single = Int16(trimmed) {
            self.init(lowest: single, highest: single)
        } else {
            throw SpecError.invalid("bad versions string '\(text)'")
        }
    }

    public var isEmpty: Bool { highest < lowest }

    public func contains(_ version: Int16) -> Bool { version >= lowest && version <= highest }

    public func contains(_ other: Versions) -> Bool {
        other.isEmpty || (!isEmpty && other.lowest >= lowest && other.highest <= highest)
    }

    public func intersecting(_ other: Versions) -> Versions {
        let result = Versions(lowest: max(lowest, other.lowest), highest: min(highest, other.highest))
        return result.isEmpty ? .none : result
    }

    /// The smallest range covering both.
    public func hull(_ other: Versions) -> Versions {
        if isEmpty { return other }
        if other.isEmpty { return self }
        return Versions(lowest: min(lowest, other.lowest), highest: max(highest, other.highest))
    }

    /// The versions of `self` below `other` (used for a field that is tagged from some version on).
    public func below(_ other: Versions) -> Versions {
        if other.isEmpty { return self }
        return intersecting(Versions(lowest: 0, highest: other.lowest - 1))
    }

    public var description: String {
        if isEmpty { return "none" }
        if highest == Versions.openEnd { return "\(lowest)+" }
        return lowest == highest ? "\(lowest)" : "\(lowest)-\(highest)"
    }
}

/// A malformed definition.
public enum SpecError: Error, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let message): message
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
