import BrookClient
import BrookModel
import BrookProtocol
import Logging
import ServiceLifecycle

/// This node's membership as a broker (KIP-631): it registers with the active controller, then
/// heartbeats every `broker.heartbeat.interval.ms`, registering again when the controller no
/// longer knows its epoch; at shutdown it asks to shut down (controlled shutdown), so the
/// controller fences it before it stops. The active controller's node also fences the brokers
/// whose sessions expired, on the same beat; a controller-only node (`process.roles=controller`)
/// does only that.
struct BrokerLifecycleService: Service {
    let quorum: QuorumDriver
    let controller: ClusterController
    /// Reaches the active controller when it is another node.
    let controllerClient: ControllerClient
    /// False on a controller-only node: it never registers as a broker.
    let isBroker: Bool
    let clusterId: String
    let listeners: [BrokerConfig.Listener]
    /// Each listener's protocol, registered with its address.
    let securityProtocols: [String: SecurityProtocol]
    let rack: String?
    let heartbeatInterval: Duration
    /// This process's incarnation id, new at every start: the controller tells a restarted broker
    /// from the process before it by it, and the partitions wait for its registration.
    let incarnation: Uuid
    /// Where controller work runs: it blocks on the quorum's commits.
    let threads: BlockingWorkThreads
    let logger: Logger

    private var nodeId: Int32 { quorum.configuration.localID.rawValue }

    func run() async throws {
        var epoch: Int64?
        while !Task.isShuttingDownGracefully {
            await withTaskExecutorPreference(threads) {
                controller.fenceExpiredSessions()
                controller.rebalanceLeadersIfDue()
            }
            if isBroker {
                do {
                    if let current = epoch {
                        let response = try await send(heartbeat(epoch: current, shuttingDown: false))
                        switch ErrorCode(rawValue: response.errorCode) {
                        case .staleBrokerEpoch, .brokerIdNotRegistered:
                            epoch = nil
                        default:
                            break
                        }
                    } else {
                        let response = try await send(registration(incarnation))
                        if response.errorCode == 0 {
                            epoch = response.brokerEpoch
                            logger.info("node \(nodeId) registered as a broker, epoch \(response.brokerEpoch)")
                        } else if response.errorCode == ErrorCode.duplicateBrokerRegistration.rawValue {
                            logger.error("another live broker is registered with node.id \(nodeId): this one cannot join until it is gone")
                        }
                    }
                } catch {
                    // No leader yet, or it just moved: the next beat finds it.
                }
            }
            try? await Task.sleep(for: heartbeatInterval)
        }
        if let epoch {
            // Controlled shutdown: the controller fences this broker before it stops serving.
            _ = try? await send(heartbeat(epoch: epoch, shuttingDown: true))
        }
        await controllerClient.close()
    }

    private func registration(_ incarnation: Uuid) -> BrokerRegistrationRequest {
        BrokerRegistrationRequest(
            brokerId: nodeId, clusterId: clusterId, incarnationId: incarnation,
            listeners: listeners.map { .init(name: $0.name, host: $0.host, port: UInt16(clamping: $0.port), securityProtocol: (securityProtocols[$0.name] ?? .plaintext).rawValue) },
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
    private func send(_ request: BrokerRegistrationRequest) async throws -> BrokerRegistrationResponse {
        if controllerClient.isController {
            return await withTaskExecutorPreference(threads) { controller.answer(request) }
        }
        return try await controllerClient.send(request, timeout: .seconds(5))
    }

    private func send(_ request: BrokerHeartbeatRequest) async throws -> BrokerHeartbeatResponse {
        if controllerClient.isController {
            return await withTaskExecutorPreference(threads) { controller.answer(request) }
        }
        return try await controllerClient.send(request, timeout: .seconds(5))
    }
}
