import ArgumentParser
import BrookBroker
import Foundation

/// A node's configuration as `brook server` and `brook storage` take it: a server.properties
/// file and single keys that win over it.
struct BrokerConfigOptions: ParsableArguments {
    @Option(name: [.long, .customLong("command-config")], help: "A server.properties file with Kafka's configuration keys.")
    var config: String?

    @Option(name: .long, help: "Set one configuration key (key=value); repeatable, wins over --config.")
    var override: [String] = []

    /// The configuration, or a one-line error naming the file or the bad key.
    func load() throws -> BrokerConfig {
        var properties = ""
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw ValidationError("cannot read configuration file \(config)")
            }
            properties = text
        }
        do {
            return try BrokerConfig(properties: properties, overrides: override)
        } catch {
            throw ValidationError("invalid configuration: \(error)")
        }
    }
}
