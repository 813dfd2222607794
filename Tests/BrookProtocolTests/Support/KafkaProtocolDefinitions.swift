import BrookCodegenCore
import Foundation

/// Locates Apache Kafka's JSON definitions: `$BROOK_KAFKA_PROTOCOL`, else `../shared/kafka-protocol`
/// beside the package.
enum KafkaProtocolDefinitions {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // BrookProtocolTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static var folder: URL {
        if let override = ProcessInfo.processInfo.environment["BROOK_KAFKA_PROTOCOL"] {
            return URL(fileURLWithPath: override)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/kafka-protocol")
    }

    static var isPresent: Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent("messages").path)
    }

    /// The definitions, loaded once.
    static let specs: [MessageSpec] = {
        guard isPresent else { return [] }
        return (try? SpecLoader.loadAll(root: folder)) ?? []
    }()
}
