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

    @OptionGroup var node: BrokerConfigOptions

    func run() async throws {
        // BROOK_LOG_LEVEL (trace, debug, info, notice, warning, error, critical) turns on more,
        // e.g. the service group's account of each service stopping.
        let level = ProcessInfo.processInfo.environment["BROOK_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "brook")
        let brokerConfig = try node.load()
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
