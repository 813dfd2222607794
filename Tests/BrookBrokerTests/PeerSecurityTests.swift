@testable import BrookBroker
import BrookClient
import NIOSSL
import Testing

/// How a node secures the connections it opens to the other nodes: the inter-broker and the
/// controller listener's protocol, TLS and SASL credentials, as Kafka's nodes read them.
@Suite struct PeerSecurityTests {
    static let plainJaas = #"org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="b-secret" user_broker="b-secret";"#

    @Test func aPlaintextListenerNeedsNothing() throws {
        let config = try BrokerConfig(overrides: ["listeners=PLAINTEXT://127.0.0.1:0"])
        let security = try PeerSecurity.clientSecurity(listener: "PLAINTEXT", mechanismKey: InterNodeSecurity.brokerMechanismKey, in: config)
        #expect(security.securityProtocol == .plaintext)
    }

    @Test func saslTakesTheMechanismAndThisNodesOwnCredentialsFromTheListenersJaasConfig() throws {
        let config = try BrokerConfig(overrides: [
            "listener.security.protocol.map=INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
            "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512", "sasl.mechanism.controller.protocol=PLAIN",
            #"listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="b-secret";"#,
            #"listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="quorum" password="q-secret" user_quorum="q-secret";"#,
            "controller.listener.names=CONTROLLER",
        ])
        let security = try InterNodeSecurity.of(config, brokerListener: "INTERNAL")
        #expect(security.brokers.listener == "INTERNAL")
        #expect(security.brokers.current.securityProtocol == .saslPlaintext)
        #expect(security.brokers.current.sasl?.mechanism == "SCRAM-SHA-512")
        #expect(security.brokers.current.sasl?.user == "broker")
        #expect(security.brokers.current.sasl?.password == "b-secret")
        #expect(security.controllers.listener == "CONTROLLER")
        #expect(security.controllers.current.sasl?.mechanism == "PLAIN")
        #expect(security.controllers.current.sasl?.user == "quorum")
    }

    @Test func scramToControllersIsRefusedAndAMisnamedBrokerListenerIsNotTakenForPlaintext() throws {
        let scram = try BrokerConfig(overrides: [
            "listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT", "sasl.mechanism.controller.protocol=SCRAM-SHA-256",
            #"sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="q" password="s";"#,
        ])
        let refusal = #expect(throws: BrokerConfig.InvalidConfig.self) {
            try PeerSecurity.clientSecurity(listener: "CONTROLLER", mechanismKey: InterNodeSecurity.controllerMechanismKey, in: scram, toControllers: true)
        }
        #expect(refusal?.message.contains("use PLAIN") == true)
        let unmapped = try BrokerConfig(overrides: ["listener.security.protocol.map=PLAINTEXT:PLAINTEXT"])
        #expect(throws: BrokerConfig.InvalidConfig.self) {
            try PeerSecurity.clientSecurity(listener: "INTERNAL", mechanismKey: InterNodeSecurity.brokerMechanismKey, in: unmapped)
        }
        let controller = try PeerSecurity.clientSecurity(
            listener: "CTRL", mechanismKey: InterNodeSecurity.controllerMechanismKey, in: unmapped, toControllers: true)
        #expect(controller.securityProtocol == .plaintext)
    }

    @Test func withoutControllerListenerNamesTheControllersAreReachedLikeTheBrokers() throws {
        let config = try BrokerConfig(overrides: [
            "listener.security.protocol.map=INTERNAL:SASL_PLAINTEXT", "sasl.mechanism.inter.broker.protocol=PLAIN",
            "sasl.mechanism.controller.protocol=PLAIN", "sasl.jaas.config=\(Self.plainJaas)",
        ])
        let security = try InterNodeSecurity.of(config, brokerListener: "INTERNAL")
        #expect(security.controllers.listener == "INTERNAL")
        #expect(security.controllers.current.sasl?.user == "broker", "sasl.jaas.config serves every listener")
    }

    @Test func gssapiOrMissingCredentialsAreRefusedWithTheKeyToSet() throws {
        let gssapi = try BrokerConfig(overrides: [
            "listener.security.protocol.map=INTERNAL:SASL_PLAINTEXT", "listener.name.internal.plain.sasl.jaas.config=\(Self.plainJaas)",
        ])
        let refusal = #expect(throws: BrokerConfig.InvalidConfig.self) {
            try PeerSecurity.clientSecurity(listener: "INTERNAL", mechanismKey: InterNodeSecurity.brokerMechanismKey, in: gssapi)
        }
        #expect(refusal?.message.contains("sasl.mechanism.inter.broker.protocol is GSSAPI") == true)

        let noUser = try BrokerConfig(overrides: [
            "listener.security.protocol.map=INTERNAL:SASL_PLAINTEXT", "sasl.mechanism.inter.broker.protocol=PLAIN",
            #"listener.name.internal.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_broker="b";"#,
        ])
        let missing = #expect(throws: BrokerConfig.InvalidConfig.self) {
            try PeerSecurity.clientSecurity(listener: "INTERNAL", mechanismKey: InterNodeSecurity.brokerMechanismKey, in: noUser)
        }
        #expect(missing?.message.contains("listener.name.internal.plain.sasl.jaas.config") == true)
    }

    @Test func tlsWithoutAKeystoreTrustsTheSystemAndChecksNamesUnlessTurnedOff() throws {
        let config = try BrokerConfig(overrides: ["listener.security.protocol.map=INTERNAL:SSL"])
        let security = try PeerSecurity.clientSecurity(listener: "INTERNAL", mechanismKey: InterNodeSecurity.brokerMechanismKey, in: config)
        #expect(security.securityProtocol == .ssl)
        #expect(security.tls != nil)
        #expect(security.verifiesHostname)
        let unchecked = try BrokerConfig(overrides: [
            "listener.security.protocol.map=INTERNAL:SSL", "listener.name.internal.ssl.endpoint.identification.algorithm=",
        ])
        let tls = try ListenerTLS.clientConfiguration(for: "INTERNAL", in: unchecked)
        #expect(tls.certificateVerification == .noHostnameVerification)
        #expect(tls.certificateChain.isEmpty)
        #expect(throws: ListenerTLS.SettingsError.self) {
            try ListenerTLS.clientConfiguration(
                for: "INTERNAL", in: try BrokerConfig(overrides: ["ssl.keystore.location=/nonexistent/keystore.pem", "ssl.keystore.type=PEM"]))
        }
    }
}
