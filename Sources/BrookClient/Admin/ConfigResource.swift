/// Something that has configs: a topic, a broker, or the cluster-wide broker defaults
/// (Kafka's `ConfigResource`).
public struct ConfigResource: Sendable, Hashable, CustomStringConvertible {
    /// Kafka's resource types, by their wire ids.
    public enum Kind: Int8, Sendable {
        case topic = 2
        case broker = 4
        case brokerLogger = 8
    }

    public var kind: Kind
    /// The topic's name, the broker's id in decimal, or "" for the broker defaults.
    public var name: String

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    /// The topic `name`.
    public static func topic(_ name: String) -> ConfigResource { ConfigResource(kind: .topic, name: name) }

    /// The broker with node id `id`.
    public static func broker(_ id: Int32) -> ConfigResource { ConfigResource(kind: .broker, name: String(id)) }

    /// The dynamic defaults every broker of the cluster shares.
    public static let brokerDefaults = ConfigResource(kind: .broker, name: "")

    /// `topic orders`, `broker 1`, `broker defaults`: how kafka-configs names entities.
    public var description: String {
        switch kind {
        case .topic: "topic \(name)"
        case .broker: name.isEmpty ? "broker defaults" : "broker \(name)"
        case .brokerLogger: "broker-logger \(name)"
        }
    }
}

/// One config key as DescribeConfigs reports it (Kafka's `ConfigEntry`).
public struct ConfigEntry: Sendable, Equatable {
    /// Where a value comes from, by DescribeConfigs' wire ids; ``kafkaName`` is the name Kafka's
    /// `ConfigEntry.ConfigSource` gives it, as kafka-configs prints.
    public enum Source: Int8, Sendable {
        case unknown = 0
        case dynamicTopicConfig = 1
        case dynamicBrokerConfig = 2
        case dynamicDefaultBrokerConfig = 3
        case staticBrokerConfig = 4
        case defaultConfig = 5
        case dynamicBrokerLoggerConfig = 6
        case dynamicClientMetricsConfig = 7
        case dynamicGroupConfig = 8

        /// `DYNAMIC_TOPIC_CONFIG`, `DEFAULT_CONFIG`, ...
        public var kafkaName: String {
            switch self {
            case .unknown: "UNKNOWN"
            case .dynamicTopicConfig: "DYNAMIC_TOPIC_CONFIG"
            case .dynamicBrokerConfig: "DYNAMIC_BROKER_CONFIG"
            case .dynamicDefaultBrokerConfig: "DYNAMIC_DEFAULT_BROKER_CONFIG"
            case .staticBrokerConfig: "STATIC_BROKER_CONFIG"
            case .defaultConfig: "DEFAULT_CONFIG"
            case .dynamicBrokerLoggerConfig: "DYNAMIC_BROKER_LOGGER_CONFIG"
            case .dynamicClientMetricsConfig: "DYNAMIC_CLIENT_METRICS_CONFIG"
            case .dynamicGroupConfig: "DYNAMIC_GROUP_CONFIG"
            }
        }
    }

    /// A config that could supply this key's value, with where it comes from.
    public struct Synonym: Sendable, Equatable {
        public var name: String
        /// Nil for sensitive keys.
        public var value: String?
        public var source: Source

        public init(name: String, value: String?, source: Source) {
            self.name = name
            self.value = value
            self.source = source
        }
    }

    public var name: String
    /// Nil for sensitive keys (passwords), which brokers never reveal.
    public var value: String?
    public var source: Source
    public var isSensitive: Bool
    public var isReadOnly: Bool
    /// Most specific first; empty unless asked for.
    public var synonyms: [Synonym]
    /// Nil unless asked for (DescribeConfigs v3+).
    public var documentation: String?

    public init(
        name: String, value: String?, source: Source, isSensitive: Bool = false, isReadOnly: Bool = false,
        synonyms: [Synonym] = [], documentation: String? = nil
    ) {
        self.name = name
        self.value = value
        self.source = source
        self.isSensitive = isSensitive
        self.isReadOnly = isReadOnly
        self.synonyms = synonyms
        self.documentation = documentation
    }

    /// Whether the value is the built-in default: nothing overrides it.
    public var isDefault: Bool { source == .defaultConfig }
}

/// One change to one config key (Kafka's `AlterConfigOp`), for IncrementalAlterConfigs.
public struct ConfigAlteration: Sendable, Equatable {
    /// The operations, by Kafka's `AlterConfigOp.OpType` ids.
    public enum Operation: Int8, Sendable {
        /// Sets the key's value.
        case set = 0
        /// Removes the override, so the key falls back to the next synonym.
        case delete = 1
        /// Adds items to a list key, skipping those it holds.
        case append = 2
        /// Removes items from a list key.
        case subtract = 3
    }

    public var name: String
    public var operation: Operation
    /// Ignored by `delete`; a comma-separated list for `append` and `subtract`.
    public var value: String?

    public init(name: String, operation: Operation, value: String?) {
        self.name = name
        self.operation = operation
        self.value = value
    }

    public static func set(_ name: String, _ value: String) -> ConfigAlteration { .init(name: name, operation: .set, value: value) }
    public static func delete(_ name: String) -> ConfigAlteration { .init(name: name, operation: .delete, value: nil) }
    public static func append(_ name: String, _ value: String) -> ConfigAlteration { .init(name: name, operation: .append, value: value) }
    public static func subtract(_ name: String, _ value: String) -> ConfigAlteration { .init(name: name, operation: .subtract, value: value) }
}
