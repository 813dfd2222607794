import BrookCodegenCore
import Foundation
import Testing

/// The committed generated code matches what brook-codegen writes from ../shared/kafka-protocol.
@Suite struct GeneratedCodeIsCurrentTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let definitions = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/kafka-protocol")
    static let generated = packageRoot.appendingPathComponent("Sources/BrookProtocol/Generated")

    @Test(.enabled(if: FileManager.default.fileExists(atPath: definitions.path), "needs ../shared/kafka-protocol"))
    func committedOutputIsCurrent() throws {
        let generator = try Generator(protocolRoot: Self.definitions)
        let differences = try generator.differences(from: Self.generated)
        #expect(differences.isEmpty, "generated code is stale, run `make generate`: \(differences.prefix(10))")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: definitions.path), "needs ../shared/kafka-protocol"))
    func everyBrokerAndControllerApiIsGenerated() throws {
        let specs = try SpecLoader.loadAll(root: Self.definitions)
        let requests = specs.filter { $0.kind == "request" }
        #expect(requests.allSatisfy { $0.isServedByBrokerOrController })
        // Count independently of the loader's filter: every request file naming a broker or controller listener.
        let folder = Self.definitions.appendingPathComponent("messages")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix("Request.json") }
        var served = 0
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let spec = try SpecLoader.parse(text, group: "messages")
            if spec.listeners.contains("broker") || spec.listeners.contains("controller") { served += 1 }
        }
        #expect(requests.count == served)
        #expect(served > 80)
        let responses = Set(specs.filter { $0.kind == "response" }.compactMap(\.apiKey))
        #expect(Set(requests.compactMap(\.apiKey)) == responses)
    }

    @Test func staleOutputIsReported() throws {
        let spec = try SpecLoader.parse(SpecFixtures.taggedMessage, group: "messages")
        let generator = Generator(specs: [spec])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("brook-codegen-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try generator.write(to: folder)
        #expect(try generator.differences(from: folder).isEmpty)
        let file = folder.appendingPathComponent("Messages/ExampleRecord.swift")
        try "// edited\n".write(to: file, atomically: true, encoding: .utf8)
        try "// extra\n".write(to: folder.appendingPathComponent("Messages/Extra.swift"), atomically: true, encoding: .utf8)
        let differences = try generator.differences(from: folder)
        #expect(differences.contains("stale: Messages/ExampleRecord.swift"))
        #expect(differences.contains("not generated any more: Messages/Extra.swift"))
    }
}
