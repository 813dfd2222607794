import BrookClient
import BrookSecurity
import NIOSSL
import Synchronization

/// How this node secures a kind of connection it opens to other nodes of its cluster: TLS and
/// SASL as the listener those nodes are reached on asks. The TLS part is replaced when a
/// dynamic config changes the keystore or truststore; connections already open keep theirs.
final class PeerSecurity: Sendable {
    /// The listener the peers are reached on.
    let listener: String
    /// The key naming the SASL mechanism, and whether the peers are controllers
    /// (``clientSecurity(listener:mechanismKey:in:toControllers:)``).
    let mechanismKey: String
    let toControllers: Bool
    private let security: Mutex<ClientSecurity>

    /// The security `config` gives connections to the peers on `listener`.
    init(listener: String, mechanismKey: String, toControllers: Bool = false, in config: BrokerConfig) throws {
        self.listener = listener
        self.mechanismKey = mechanismKey
        self.toControllers = toControllers
        security = Mutex(try Self.clientSecurity(listener: listener, mechanismKey: mechanismKey, in: config, toControllers: toControllers))
    }

    private init(plaintextOn listener: String) {
        self.listener = listener
        mechanismKey = InterNodeSecurity.brokerMechanismKey
        toControllers = false
        security = Mutex(.plaintext)
    }

    /// No encryption, no authentication (a single node, and tests).
    static var plaintext: PeerSecurity { PeerSecurity(plaintextOn: "PLAINTEXT") }

    /// What a new connection uses.
    var current: ClientSecurity { security.withLock { $0 } }

    /// Builds the security again from `config` (a reloaded keystore or truststore).
    func reload(from config: BrokerConfig) throws {
        let rebuilt = try Self.clientSecurity(listener: listener, mechanismKey: mechanismKey, in: config, toControllers: toControllers)
        security.withLock { $0 = rebuilt }
    }

    /// The client side of `listener` as Kafka's brokers make it: the listener's protocol; for
    /// SSL and SASL_SSL its truststore, keystore and TLS settings (``ListenerTLS``); for SASL
    /// the mechanism `mechanismKey` names (`sasl.mechanism.inter.broker.protocol` or
    /// `sasl.mechanism.controller.protocol`), and the `username` and `password` of the
    /// listener's JAAS config for that mechanism.
    ///
    /// Controllers check SCRAM against credentials in the cluster's metadata, which a new
    /// quorum does not have yet (Brook has no `storage format --add-scram`): the controller
    /// listener takes PLAIN (or mutual TLS).
    static func clientSecurity(
        listener: String, mechanismKey: String, in config: BrokerConfig, toControllers: Bool = false
    ) throws -> ClientSecurity {
        // Kafka takes a controller listener missing from the protocol map to be PLAINTEXT.
        let securityProtocol = toControllers ? (try? config.securityProtocol(of: listener)) ?? .plaintext : try config.securityProtocol(of: listener)
        let tls = securityProtocol.usesTLS
            ? try NIOSSLContext(configuration: ListenerTLS.clientConfiguration(for: listener, in: config)) : nil
        let sasl = securityProtocol.usesSASL ? try credentials(listener: listener, mechanismKey: mechanismKey, in: config) : nil
        if toControllers, let sasl, sasl.mechanism != "PLAIN" {
            throw BrokerConfig.InvalidConfig(message: "\(mechanismKey) is \(sasl.mechanism): controllers check SCRAM against credentials in the cluster's metadata, which a new quorum does not have; use PLAIN (or SSL with client certificates) on the controller listener")
        }
        return ClientSecurity(
            securityProtocol: ClientSecurity.SecurityProtocol(rawValue: securityProtocol.description) ?? .plaintext, tls: tls,
            verifiesHostname: ListenerTLS.checksNames(listener, in: config), sasl: sasl)
    }

    private static func credentials(
        listener: String, mechanismKey: String, in config: BrokerConfig
    ) throws(BrokerConfig.InvalidConfig) -> (mechanism: String, user: String, password: String) {
        let mechanism = (config.string(mechanismKey) ?? "GSSAPI").uppercased()
        guard mechanism == "PLAIN" || ScramMechanism(name: mechanism) != nil else {
            throw BrokerConfig.InvalidConfig(message: "listener \(listener) carries traffic between nodes with SASL and \(mechanismKey) is \(mechanism): nodes authenticate to each other with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; set \(mechanismKey)")
        }
        let key = "listener.name.\(listener.lowercased()).\(mechanism.lowercased()).sasl.jaas.config"
        let jaas = config.values[key] ?? config.string("sasl.jaas.config", forListener: listener) ?? ""
        let options = JaasOptions.values(jaas)
        guard let user = options["username"], let password = options["password"] else {
            throw BrokerConfig.InvalidConfig(message: "listener \(listener) carries traffic between nodes with SASL \(mechanism): set username and password (this node's own credentials) in \(key)")
        }
        return (mechanism, user, password)
    }
}

/// The security of the connections this node opens: to brokers on the inter-broker listener
/// (replica fetches, transaction markers) and to controllers on the first of
/// `controller.listener.names` (the quorum's requests, registrations, heartbeats and what
/// brokers forward), as Kafka's nodes do.
struct InterNodeSecurity: Sendable {
    static let brokerMechanismKey = "sasl.mechanism.inter.broker.protocol"
    static let controllerMechanismKey = "sasl.mechanism.controller.protocol"

    let brokers: PeerSecurity
    let controllers: PeerSecurity

    /// Reads both from `config`; `brokerListener` is the listener brokers reach each other on.
    static func of(_ config: BrokerConfig, brokerListener: String) throws -> InterNodeSecurity {
        let controllerListener = config.list("controller.listener.names").first ?? brokerListener
        return InterNodeSecurity(
            brokers: try PeerSecurity(listener: brokerListener, mechanismKey: brokerMechanismKey, in: config),
            controllers: try PeerSecurity(listener: controllerListener, mechanismKey: controllerMechanismKey, toControllers: true, in: config))
    }

    /// Builds both again from `config` (a reloaded keystore or truststore).
    func reload(from config: BrokerConfig) throws {
        try brokers.reload(from: config)
        try controllers.reload(from: config)
    }
}
