/// The type and default of one configuration key, as Kafka documents it.
public struct ConfigDefinition: Sendable {
    public enum ValueType: Sendable, Equatable {
        case int, long, double, boolean, string, list, password
    }

    public let name: String
    public let type: ValueType
    /// The default as Kafka writes it; nil when the key has no default.
    public let defaultValue: String?
    /// The smallest accepted value, for numeric keys.
    public let minimum: Double?
    /// The accepted values, for enumerated string keys.
    public let allowed: [String]?
    /// Whether the key may be changed at run time through AlterConfigs (a dynamic broker config).
    public let isDynamic: Bool
    public let documentation: String

    public init(
        _ name: String, _ type: ValueType, _ defaultValue: String?, minimum: Double? = nil,
        allowed: [String]? = nil, dynamic: Bool = false, _ documentation: String
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.minimum = minimum
        self.allowed = allowed
        self.isDynamic = dynamic
        self.documentation = documentation
    }

    /// Whether a listener may have its own value (`listener.name.<listener>.<key>`), as Kafka's
    /// TLS and SASL settings may.
    public var isListenerSpecific: Bool { name.hasPrefix("ssl.") || name.hasPrefix("sasl.") }

    /// Checks `value` against the type and bounds; returns a message naming the key if it is bad.
    public func validate(_ value: String) -> String? {
        let trimmed = value.trimmingCharacters(in: " \t")
        switch type {
        case .int:
            guard let number = Int32(trimmed) else { return "\(name): '\(value)' is not a 32-bit integer" }
            if let minimum, Double(number) < minimum { return "\(name): \(number) is below the minimum \(Int(minimum))" }
        case .long:
            guard let number = Int64(trimmed) else { return "\(name): '\(value)' is not a 64-bit integer" }
            if let minimum, Double(number) < minimum { return "\(name): \(number) is below the minimum \(Int64(minimum))" }
        case .double:
            guard let number = Double(trimmed) else { return "\(name): '\(value)' is not a number" }
            if let minimum, number < minimum { return "\(name): \(number) is below the minimum \(minimum)" }
        case .boolean:
            guard ["true", "false"].contains(trimmed.lowercased()) else { return "\(name): '\(value)' is not true or false" }
        case .string, .password:
            if let allowed, !allowed.contains(where: { $0.lowercased() == trimmed.lowercased() }) {
                return "\(name): '\(value)' is not one of \(allowed.joined(separator: ", "))"
            }
        case .list:
            break
        }
        return nil
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, set.contains(last) { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
