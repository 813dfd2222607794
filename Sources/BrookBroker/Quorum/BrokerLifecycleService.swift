import BrookClient
import BrookModel
import BrookProtocol
import Logging
import ServiceLifecycle

/// This node's membership as a broker (KIP-631): it registers with the active controller, then
/// heartbeats every `broker.heartbeat.interval.ms`, registering again when the controller no
/// longer knows its epoch; at shutdown it asks to shut down (controlled shutdown), so the
/// controller fences it before it stops. The active controller's node also fences the brokers
/// whose sessions expired, on the same beat.
struct BrokerLifecycleService: Service {
    let quorum: QuorumDriver
    let controller: ClusterController
    let clusterId: String
    let listeners: [BrokerConfig.Listener]
    let rack: String?
    let heartbeatInterval: Duration
    /// Where controller work runs: it blocks on the quorum's commits.
    let threads: BlockingWorkThreads
    let logger: Logger

    private var nodeId: Int32 { quorum.configuration.localID.rawValue }

    func run() async throws {
        let incarnation = Uuid.random()
        var epoch: Int64?
        var link = ControllerLink()
        while !Task.isShuttingDownGracefully {
            await withTaskExecutorPreference(threads) { controller.fenceExpiredSessions() }
            do {
                if let current = epoch {
                    let response = try await send(heartbeat(epoch: current, shuttingDown: false), via: &link)
                    switch ErrorCode(rawValue: response.errorCode) {
                    case .staleBrokerEpoch, .brokerIdNotRegistered:
                        epoch = nil
                    default:
                        break
                    }
                } else {
                    let response = try await send(registration(incarnation), via: &link)
                    if response.errorCode == 0 {
                        epoch = response.brokerEpoch
                        logger.info("node \(nodeId) registered as a broker, epoch \(response.brokerEpoch)")
                    } else if response.errorCode == ErrorCode.duplicateBrokerRegistration.rawValue {
                        logger.error("another live broker is registered with node.id \(nodeId): this one cannot join until it is gone")
                    }
                }
            } catch {
                // No leader yet, or it just moved: the next beat finds it.
                await link.close()
                link = ControllerLink()
            }
            try? await Task.sleep(for: heartbeatInterval)
        }
        if let epoch {
            // Controlled shutdown: the controller fences this broker before it stops serving.
            _ = try? await send(heartbeat(epoch: epoch, shuttingDown: true), via: &link)
        }
        await link.close()
    }

    private func registration(_ incarnation: Uuid) -> BrokerRegistrationRequest {
        BrokerRegistrationRequest(
            brokerId: nodeId, clusterId: clusterId, incarnationId: incarnation,
            listeners: listeners.map { .init(name: $0.name, host: $0.host, port: UInt16(clamping: $0.port), securityProtocol: 0) },
            rack: rack
        )
    }

    private func heartbeat(epoch: Int64, shuttingDown: Bool) -> BrokerHeartbeatRequest {
        BrokerHeartbeatRequest(
            brokerId: nodeId, brokerEpoch: epoch, currentMetadataOffset: quorum.status.appliedOffset.rawValue,
            wantShutDown: shuttingDown
        )
    }

    /// Sends to the active controller: itself directly, another node over the network.
    private func send<Request: KafkaRequest>(_ request: Request, via link: inout ControllerLink) async throws -> Request.Response {
        guard let leader = quorum.status.leader else { throw ClientError.notFound("no active controller yet") }
        if leader == quorum.configuration.localID {
            return try await withTaskExecutorPreference(threads) { try answerLocally(request) }
        }
        guard let voter = quorum.configuration.voters.first(where: { $0.id == leader }) else {
            throw ClientError.notFound("controller \(leader) is not a voter")
        }
        let connection = try await link.connection(to: voter)
        return try await connection.send(request)
    }

    private func answerLocally<Request: KafkaRequest>(_ request: Request) throws -> Request.Response {
        if let registration = request as? BrokerRegistrationRequest {
            let response: BrokerRegistrationResponse
            do { response = BrokerRegistrationResponse(brokerEpoch: try controller.register(registration)) } catch {
                response = BrokerRegistrationResponse(errorCode: error.code.rawValue)
            }
            return response as! Request.Response
        }
        if let heartbeat = request as? BrokerHeartbeatRequest {
            let response: BrokerHeartbeatResponse
            do { response = try controller.heartbeat(heartbeat) } catch {
                response = BrokerHeartbeatResponse(errorCode: error.code.rawValue)
            }
            return response as! Request.Response
        }
        throw ClientError.notFound("not a membership request")
    }
}

/// The lifecycle's connection to the active controller, replaced when the controller moves.
private struct ControllerLink: Sendable {
    var voter: QuorumDriver.Voter?
    var connection: BrokerConnection?

    mutating func connection(to voter: QuorumDriver.Voter) async throws -> BrokerConnection {
        if let connection, self.voter == voter { return connection }
        await close()
        let connection = try await BrokerConnection.connect(host: voter.host, port: voter.port, clientId: "brook-broker-lifecycle")
        self.voter = voter
        self.connection = connection
        return connection
    }

    mutating func close() async {
        await connection?.close()
        connection = nil
        voter = nil
    }
}
