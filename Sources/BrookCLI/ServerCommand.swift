import ArgumentParser
import BrookBroker
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `brook server`: runs a broker (and, on one node, its controller).
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run a Brook broker. With no arguments it listens on 127.0.0.1:9092 and keeps data in ./brook-data."
    )

    @Option(name: .long, help: "A server.properties file with Kafka's configuration keys.")
    var config: String?

    @Option(name: .long, help: "Set one configuration key (key=value); repeatable, wins over --config.")
    var override: [String] = []

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "brook")
        var properties = ""
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw ValidationError("cannot read configuration file \(config)")
            }
            properties = text
        }
        let brokerConfig: BrokerConfig
        do {
            brokerConfig = try BrokerConfig(properties: properties, overrides: override)
        } catch {
            throw ValidationError("invalid configuration: \(error)")
        }
        for key in brokerConfig.unknownKeys {
            logger.warning("unknown configuration key \(key) is ignored")
        }
        let broker = try await Broker.start(config: brokerConfig, logger: logger)
        let listening = broker.boundListeners.map(\.description).joined(separator: ", ")
        let announcement = Announcement(
            logger: logger,
            message: "Brook \(BrookVersion.current) node \(brokerConfig.nodeId) listening on \(listening), data in \(brokerConfig.logDirs.joined(separator: ", "))"
        )
        let group = ServiceGroup(
            configuration: .init(
                services: (broker.services + [announcement]).map {
                    .init(service: $0, failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        logger.info("Brook stopped cleanly")
    }
}

/// Logs the start-up line once the service group runs, i.e. once SIGTERM and SIGINT are trapped,
/// so a supervisor that signals as soon as it reads the line gets a clean shutdown.
struct Announcement: Service {
    let logger: Logger
    let message: String

    func run() async throws {
        logger.info("\(message)")
        try await gracefulShutdown()
    }
}
