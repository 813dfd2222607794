/// The broker's configuration: Kafka's keys and defaults, from `server.properties` and overrides.
///
/// Unknown keys are reported as warnings; a bad value is an error that names the key, so that
/// start-up stops before anything is opened.
public struct BrokerConfig: Sendable {
    /// Where a value came from, as DescribeConfigs reports it.
    public enum Source: Sendable, Equatable {
        case defaultConfig, staticBrokerConfig, dynamicBrokerConfig
    }

    /// A listener: a name (the security protocol for now), a host and a port.
    public struct Listener: Sendable, Equatable, CustomStringConvertible {
        public var name: String
        public var host: String
        public var port: Int

        public var description: String { "\(name)://\(host):\(port)" }
    }

    /// Explicitly set values (file, then overrides, then dynamic changes).
    public private(set) var values: [String: String]
    public private(set) var sources: [String: Source]
    /// Keys that were set but are not known.
    public let unknownKeys: [String]

    /// The error thrown for a bad configuration.
    public struct InvalidConfig: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Builds a configuration from `server.properties` text and `key=value` overrides.
    public init(properties: String = "", overrides: [String] = []) throws(InvalidConfig) {
        var values = PropertiesParser.parse(properties)
        for override in overrides {
            guard let equals = override.firstIndex(of: "=") else {
                throw InvalidConfig(message: "override '\(override)' is not key=value")
            }
            values[String(override[..<equals]).trimmingCharacters(in: " ")] = String(override[override.index(after: equals)...])
        }
        for (key, value) in values {
            if let definition = BrokerConfigDefinitions.definition(of: key), let problem = definition.validate(value) {
                throw InvalidConfig(message: "invalid value for \(problem)")
            }
        }
        self.values = values
        self.sources = values.mapValues { _ in .staticBrokerConfig }
        self.unknownKeys = values.keys.filter { BrokerConfigDefinitions.definition(of: $0) == nil }.sorted()
        _ = try listeners
        _ = try advertisedListeners
    }

    /// The effective value of a known key: explicit, else Kafka's default.
    public func string(_ key: String) -> String? {
        values[key] ?? BrokerConfigDefinitions.byName[key]?.defaultValue
    }

    public func source(of key: String) -> Source { sources[key] ?? .defaultConfig }

    func int(_ key: String) -> Int {
        Int(string(key)?.trimmingCharacters(in: " ") ?? "") ?? 0
    }

    func int64(_ key: String) -> Int64? {
        string(key).flatMap { Int64($0.trimmingCharacters(in: " ")) }
    }

    func bool(_ key: String) -> Bool { string(key)?.lowercased() == "true" }

    func list(_ key: String) -> [String] {
        (string(key) ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
    }

    /// Sets a dynamic value (AlterConfigs); nil removes it.
    public mutating func setDynamic(_ key: String, _ value: String?) throws(InvalidConfig) {
        guard let definition = BrokerConfigDefinitions.definition(of: key) else {
            throw InvalidConfig(message: "unknown broker config \(key)")
        }
        guard definition.isDynamic else { throw InvalidConfig(message: "\(key) cannot be changed while the broker runs") }
        if let value {
            if let problem = definition.validate(value) { throw InvalidConfig(message: "invalid value for \(problem)") }
            values[key] = value
            sources[key] = .dynamicBrokerConfig
        } else {
            values[key] = nil
            sources[key] = nil
        }
    }

    // MARK: Typed accessors

    public var nodeId: Int32 {
        let brokerId = int("broker.id")
        return Int32(values["node.id"] == nil && brokerId >= 0 ? brokerId : int("node.id"))
    }

    public var listeners: [Listener] {
        get throws(InvalidConfig) { try Self.parseListeners(list("listeners"), key: "listeners") }
    }

    /// Advertised listeners; defaults to the listeners.
    public var advertisedListeners: [Listener] {
        get throws(InvalidConfig) {
            let advertised = list("advertised.listeners")
            return advertised.isEmpty ? try listeners : try Self.parseListeners(advertised, key: "advertised.listeners")
        }
    }

    public var logDirs: [String] {
        let dirs = list("log.dirs")
        return dirs.isEmpty ? [string("log.dir") ?? "./brook-data"] : dirs
    }

    public var numPartitions: Int32 { Int32(int("num.partitions")) }
    public var defaultReplicationFactor: Int16 { Int16(clamping: int("default.replication.factor")) }
    public var autoCreateTopics: Bool { bool("auto.create.topics.enable") }
    public var deleteTopicEnable: Bool { bool("delete.topic.enable") }
    public var socketRequestMaxBytes: Int { int("socket.request.max.bytes") }
    public var connectionsMaxIdleMs: Int64 { int64("connections.max.idle.ms") ?? 600_000 }
    public var messageMaxBytes: Int { int("message.max.bytes") }

    static func parseListeners(_ entries: [String], key: String) throws(InvalidConfig) -> [Listener] {
        var result: [Listener] = []
        for entry in entries {
            let parts = entry.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].hasSuffix(":"), parts[1].isEmpty else {
                throw InvalidConfig(message: "invalid value for \(key): '\(entry)' is not NAME://host:port")
            }
            let name = String(parts[0].dropLast())
            let address = parts[2]
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
                  (0...65_535).contains(port) else {
                throw InvalidConfig(message: "invalid value for \(key): '\(entry)' has no valid port")
            }
            var host = String(address[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            result.append(Listener(name: name, host: host, port: port))
        }
        return result
    }
}
