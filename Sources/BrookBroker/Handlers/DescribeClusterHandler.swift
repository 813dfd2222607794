import BrookClient
import BrookProtocol

/// DescribeCluster: the cluster id, the controller and the brokers.
///
/// Brook is a combined broker and controller reached through broker listeners, so, as a Kafka
/// broker does, it describes brokers only: asking for controllers (endpoint type 2, v1+) fails
/// with MISMATCHED_ENDPOINT_TYPE and an unknown endpoint type with UNSUPPORTED_ENDPOINT_TYPE
/// (INVALID_REQUEST in v0). The authorized operations (when asked) are those of Kafka's cluster
/// operations the client may do: all of them without an authorizer.
/// Asked with Brook's tag (``DescribeClusterStates``), a cluster lists every registered broker,
/// fenced or shutting down too, with its state.
struct DescribeClusterHandler: RequestHandler {
    typealias Request = DescribeClusterRequest
    let versions: ClosedRange<Int16> = 0...1
    let metadata: MetadataStore

    /// Kafka's endpoint types.
    enum EndpointType: Int8 {
        case brokers = 1
        case controllers = 2
    }


    func handle(_ request: DescribeClusterRequest, context: RequestContext) async throws -> DescribeClusterResponse? {
        let version = context.apiVersion
        let image = metadata.image
        var response = DescribeClusterResponse(throttleTimeMs: 0, clusterId: image.clusterId)
        switch EndpointType(rawValue: request.endpointType) {
        case .brokers:
            break
        case .controllers:
            response.errorCode = (version == 0 ? ErrorCode.invalidRequest : .mismatchedEndpointType).rawValue
            response.errorMessage = "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER"
            return response
        case nil:
            response.errorCode = (version == 0 ? ErrorCode.invalidRequest : .unsupportedEndpointType).rawValue
            response.errorMessage = "Unsupported endpoint type \(request.endpointType)"
            return response
        }
        response.controllerId = image.controllerIdForClients(asking: metadata.nodeId)
        if DescribeClusterStates.isAsked(in: request), !image.registrations.isEmpty {
            // Brook's extension: every registered broker, with its state.
            response.brokers = image.registrations.values.sorted { $0.nodeId < $1.nodeId }.compactMap { registration in
                guard let endpoint = registration.endpoint(on: context.listenerName) else { return nil }
                var broker = DescribeClusterResponse.DescribeClusterBroker(
                    brokerId: registration.nodeId, host: endpoint.host, port: endpoint.port, rack: endpoint.rack)
                let state: ClusterAdmin.BrokerState = registration.inControlledShutdown
                    ? .controlledShutdown : registration.fenced ? .fenced : .registered
                broker.unknownTaggedFields = [DescribeClusterStates.field(state)]
                return broker
            }
        } else {
            response.brokers = image.brokers(on: context.listenerName).map {
                DescribeClusterResponse.DescribeClusterBroker(brokerId: $0.nodeId, host: $0.host, port: $0.port, rack: $0.rack)
            }
        }
        if request.includeClusterAuthorizedOperations {
            response.clusterAuthorizedOperations = context.authorizedOperations(
                .cluster, AclResourceType.clusterName, among: AclOperation.clusterOperations)
        }
        return response
    }
}
