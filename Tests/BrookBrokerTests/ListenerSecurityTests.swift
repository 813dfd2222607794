@testable import BrookBroker
import NIOSSL
import Testing

/// Listener security settings: Kafka's protocol map, per-listener `ssl.*` keys, TLS versions and
/// cipher suites, and how a client certificate's subject becomes a principal.
@Suite struct ListenerSecurityTests {
    @Test func kafkasDefaultMapNamesEachProtocolAndAnUnknownOneIsRefused() throws {
        let config = try BrokerConfig(overrides: ["listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0"])
        #expect(try config.securityProtocol(of: "SSL") == .ssl)
        #expect(try config.securityProtocol(of: "sasl_ssl") == .saslSsl)
        #expect(try config.securityProtocol(of: "CONTROLLER") == .plaintext)
        #expect(throws: BrokerConfig.InvalidConfig.self) { try config.securityProtocol(of: "INTERNAL") }

        let mapped = try BrokerConfig(overrides: ["listener.security.protocol.map=INTERNAL:SSL,EXTERNAL:PLAINTEXT"])
        #expect(try mapped.securityProtocol(of: "INTERNAL") == .ssl)
        let bad = try BrokerConfig(overrides: ["listener.security.protocol.map=INTERNAL:TLS"])
        #expect(throws: BrokerConfig.InvalidConfig.self) { try bad.securityProtocol(of: "INTERNAL") }
    }

    @Test func aListenersOwnSslKeyWinsAndIsAKnownKey() throws {
        let config = try BrokerConfig(overrides: [
            "ssl.client.auth=none", "listener.name.internal.ssl.client.auth=required", "listener.name.internal.nonsense=1",
        ])
        #expect(config.string("ssl.client.auth", forListener: "INTERNAL") == "required")
        #expect(config.string("ssl.client.auth", forListener: "EXTERNAL") == "none")
        #expect(config.unknownKeys == ["listener.name.internal.nonsense"])
        #expect(throws: BrokerConfig.InvalidConfig.self) {
            try BrokerConfig(overrides: ["listener.name.internal.ssl.client.auth=sometimes"])
        }
    }

    @Test func enabledProtocolsBoundTheVersionsAndUnknownNamesAreRefused() throws {
        #expect(try ListenerTLS.versions("SSL", "TLSv1.2,TLSv1.3") == (.tlsv12, .tlsv13))
        #expect(try ListenerTLS.versions("SSL", "TLSv1.3") == (.tlsv13, .tlsv13))
        #expect(throws: ListenerTLS.SettingsError.self) { try ListenerTLS.versions("SSL", "SSLv3") }
        #expect(throws: ListenerTLS.SettingsError.self) { try ListenerTLS.versions("SSL", "") }
        #expect(try ListenerTLS.cipherSuites("SSL", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384")
            == [.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, .TLS_AES_256_GCM_SHA384])
        #expect(throws: ListenerTLS.SettingsError.self) { try ListenerTLS.cipherSuites("SSL", "TLS_RSA_WITH_RC4_128_MD5") }
    }

    @Test func aSubjectIsWrittenAsRFC2253MostSpecificFirstWithSpecialCharactersEscaped() {
        let subject = [
            SSLCertificateName("US", .country), SSLCertificateName("Acme, Inc.", .organization),
            SSLCertificateName("eng", .organizationalUnit), SSLCertificateName("alice", .commonName),
        ]
        #expect(Principal.distinguishedName(subject) == #"CN=alice,OU=eng,O=Acme\, Inc.,C=US"#)
        #expect(Principal.escaped("#a+b ") == ##"\#a\+b\ "##)
    }

    @Test func mappingRulesApplyInOrderWithCaseChangesAndDefaultKeepsTheName() throws {
        let mapper = try SSLPrincipalMapper(rules: "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=.*$/$1@$2/L,DEFAULT")
        #expect(mapper.name(for: "CN=kafka-svc,OU=ServiceUsers,O=Acme") == "kafka-svc")
        #expect(mapper.name(for: "CN=Alice,OU=ENG,O=Acme,C=US") == "alice@eng")
        #expect(mapper.name(for: "CN=bob") == "CN=bob")

        let strict = try SSLPrincipalMapper(rules: "RULE:^CN=([a-z]+)$/$1/U")
        #expect(strict.name(for: "CN=carol") == "CAROL")
        #expect(strict.name(for: "CN=Carol,O=x") == nil, "no rule matches: no principal")
        #expect(try SSLPrincipalMapper(rules: "").name(for: "CN=x") == "CN=x")
        #expect(try SSLPrincipalMapper(rules: #"RULE:^CN=(.*)\/x$/$1/"#).name(for: "CN=a/x") == "a")
        #expect(throws: SSLPrincipalMapper.RulesError.self) { try SSLPrincipalMapper(rules: "RULE:^CN=(.*)$/$1") }
        #expect(throws: SSLPrincipalMapper.RulesError.self) { try SSLPrincipalMapper(rules: "RULE:([/x/") }
        #expect(throws: SSLPrincipalMapper.RulesError.self) { try SSLPrincipalMapper(rules: "SOMETIMES") }
    }
}
