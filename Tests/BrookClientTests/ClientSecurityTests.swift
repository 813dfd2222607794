@testable import BrookClient
import Foundation
import Testing

/// `--command-config`: a Kafka client's security settings, read as Kafka's clients read them.
@Suite struct ClientSecurityTests {
    @Test func saslSettingsComeFromTheJaasConfigOrTheLibrdkafkaKeys() throws {
        let jaas = try ClientSecurity(properties: [
            "security.protocol": "sasl_plaintext", "sasl.mechanism": "SCRAM-SHA-256",
            "sasl.jaas.config": #"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="a b;c";"#,
        ])
        #expect(jaas.securityProtocol == .saslPlaintext)
        #expect(jaas.sasl?.mechanism == "SCRAM-SHA-256" && jaas.sasl?.user == "alice" && jaas.sasl?.password == "a b;c")
        let keys = try ClientSecurity(properties: [
            "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "PLAIN", "sasl.username": "bob", "sasl.password": "pw",
        ])
        #expect(keys.sasl?.mechanism == "PLAIN" && keys.sasl?.user == "bob")
        #expect(try ClientSecurity(properties: [:]).securityProtocol == .plaintext)
    }

    @Test func oauthBearerSendsTheTokenOfItsFileReadAtEachConnection() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "header.payload.signature\n".write(toFile: file, atomically: true, encoding: .utf8)
        let security = try ClientSecurity(properties: [
            "security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER", "sasl.oauthbearer.token.endpoint.url": "file://\(file)",
        ])
        #expect(security.sasl == nil)
        #expect(try security.saslExchange()?.mechanism == "OAUTHBEARER")
        #expect(try security.saslExchange()?.password == "header.payload.signature")
        try "renewed.token.here".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try security.saslExchange()?.password == "renewed.token.here")
        try FileManager.default.removeItem(atPath: file)
        #expect(throws: ClientSecurity.InvalidSettings.self) { try security.saslExchange() }
        #expect(throws: ClientSecurity.InvalidSettings.self) {
            try ClientSecurity(properties: ["security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER"])
        }
        #expect(throws: ClientSecurity.InvalidSettings.self) {
            try ClientSecurity(properties: [
                "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER",
                "sasl.oauthbearer.token.endpoint.url": "https://idp.example/token",
            ])
        }
    }

    @Test func badSettingsSayWhatIsWrong() {
        #expect(throws: ClientSecurity.InvalidSettings.self) { try ClientSecurity(properties: ["security.protocol": "TLS"]) }
        #expect(throws: ClientSecurity.InvalidSettings.self) {
            try ClientSecurity(properties: ["security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "GSSAPI"])
        }
        #expect(throws: ClientSecurity.InvalidSettings.self) {
            try ClientSecurity(properties: ["security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN"])
        }
        #expect(throws: ClientSecurity.InvalidSettings.self) { try ClientSecurity(propertiesFile: "/nonexistent/client.properties") }
        #expect(throws: (any Error).self) {
            try ClientSecurity(properties: ["security.protocol": "SSL", "ssl.truststore.location": "/nonexistent/ca.pem"])
        }
    }
}
