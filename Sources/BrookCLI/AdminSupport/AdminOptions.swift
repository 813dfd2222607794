import ArgumentParser
import BrookClient

/// The connection options of `brook topics`, `brook configs`, `brook cluster` and
/// `brook delete-records`, and how those commands run against the cluster.
struct AdminOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("bootstrap-server"), help: "The broker(s) to connect to, host:port[,host:port...].")
    var bootstrapServer: String

    @Option(name: .customLong("timeout-ms"), help: "How long to wait for the cluster before giving up, in milliseconds.")
    var timeoutMs: Int = 30_000

    @Option(name: .customLong("command-config"),
            help: "A Kafka client properties file with the security settings: security.protocol, ssl.*, sasl.mechanism, sasl.jaas.config.")
    var commandConfig: String?

    /// Connects, runs `body` and closes the connections, all within `--timeout-ms`. Any failure,
    /// including an unreachable or silent broker, becomes a ``CommandFailure``, which `brook`
    /// prints as one line on stderr before it exits with status 1.
    func withCluster<Result: Sendable>(
        clientId: String = "brook-admin", _ body: @escaping @Sendable (Cluster) async throws -> Result
    ) async throws -> Result {
        let servers = bootstrapServer
        let security = try clientSecurity()
        do {
            return try await Deadline.run(after: .milliseconds(max(timeoutMs, 1))) {
                let cluster = try await Cluster.connect(bootstrapServers: servers, clientId: clientId, security: security)
                do {
                    let result = try await body(cluster)
                    await cluster.close()
                    return result
                } catch {
                    await cluster.close()
                    throw error
                }
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw CommandFailure(describing: error, bootstrapServers: servers)
        }
    }

    /// The security `--command-config` names (PLAINTEXT without one).
    func clientSecurity() throws -> ClientSecurity {
        try ClientSecurity.of(commandConfig: commandConfig)
    }
}

extension ClientSecurity {
    /// The security of a `--command-config` file, or PLAINTEXT; a bad file is a ``CommandFailure``.
    static func of(commandConfig: String?) throws -> ClientSecurity {
        do {
            return try commandConfig.map(ClientSecurity.init(propertiesFile:)) ?? .plaintext
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}

/// The connection options of a command whose `--command-config` means something else
/// (`metadata-quorum add-controller`, where it names the controller's server.properties).
struct BootstrapOnlyOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("bootstrap-server"), help: "The broker(s) to connect to, host:port[,host:port...].")
    var bootstrapServer: String

    @Option(name: .customLong("timeout-ms"), help: "How long to wait for the cluster before giving up, in milliseconds.")
    var timeoutMs: Int = 30_000
}
