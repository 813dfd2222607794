import BrookProtocol
import NIOCore

/// What an operator asks of the cluster as a whole (kafka-cluster, Kafka's
/// `Admin.describeCluster`): its id, its controller and its brokers.
public struct ClusterAdmin: Sendable {
    public let cluster: Cluster

    public init(cluster: Cluster) {
        self.cluster = cluster
    }

    /// A broker's membership as the controller sees it.
    public enum BrokerState: UInt8, Sendable, Equatable, CustomStringConvertible {
        /// Registered and not fenced: it serves clients and takes partitions.
        case registered = 0
        /// Registered but fenced: not caught up yet, or its session expired.
        case fenced = 1
        /// Fenced because it asked to shut down.
        case controlledShutdown = 2

        public var description: String {
            switch self {
            case .registered: "registered"
            case .fenced: "fenced"
            case .controlledShutdown: "controlled-shutdown"
            }
        }
    }

    /// A broker and where it listens.
    public struct Broker: Sendable, Equatable {
        public var id: Int32
        public var host: String
        public var port: Int32
        public var rack: String?
        /// Known when a Brook cluster answered (``DescribeClusterStates``); else registered.
        public var state: BrokerState

        public init(id: Int32, host: String, port: Int32, rack: String? = nil, state: BrokerState = .registered) {
            self.id = id
            self.host = host
            self.port = port
            self.rack = rack
            self.state = state
        }
    }

    /// The cluster's id, controller and brokers.
    public struct Description: Sendable, Equatable {
        /// Empty when the broker's Metadata predates cluster ids (v2).
        public var clusterId: String
        /// Nil when the cluster names no controller.
        public var controllerId: Int32?
        /// By broker id.
        public var brokers: [Broker]
    }

    /// Describes the cluster with DescribeCluster, or with Metadata from a broker that does not
    /// serve it (DescribeCluster came with Kafka 2.8).
    public func describe() async throws -> Description {
        let connection = try await cluster.controllerConnection()
        guard (try? connection.negotiatedVersion(of: DescribeClusterRequest.self)) != nil else {
            let metadata = try await cluster.metadata(topics: [])
            return Description(
                clusterId: metadata.clusterId ?? "", controllerId: metadata.controllerId >= 0 ? metadata.controllerId : nil,
                brokers: metadata.brokers.map { Broker(id: $0.nodeId, host: $0.host, port: $0.port, rack: $0.rack) }.sorted { $0.id < $1.id }
            )
        }
        var request = DescribeClusterRequest()
        request.unknownTaggedFields = [DescribeClusterStates.request]
        let response = try await connection.send(request)
        try throwIfKafkaError(response.errorCode, response.errorMessage, "DescribeCluster")
        return Description(
            clusterId: response.clusterId, controllerId: response.controllerId >= 0 ? response.controllerId : nil,
            brokers: response.brokers.map {
                Broker(id: $0.brokerId, host: $0.host, port: $0.port, rack: $0.rack, state: DescribeClusterStates.state(of: $0))
            }.sorted { $0.id < $1.id }
        )
    }
}

/// Brook's extension of DescribeCluster for `brook cluster describe`: a request carrying the
/// tagged field 10000 asks for every registered broker, fenced ones too, each answered with the
/// same tag holding its ``ClusterAdmin/BrokerState``. Kafka's brokers ignore the tag and clients
/// that do not send it get Kafka's answer (the brokers that are not fenced).
public enum DescribeClusterStates {
    public static let tag: UInt32 = 10_000

    public static var request: TaggedField { TaggedField(tag: tag, data: ByteBuffer()) }

    public static func isAsked(in request: DescribeClusterRequest) -> Bool {
        request.unknownTaggedFields.contains { $0.tag == tag }
    }

    public static func field(_ state: ClusterAdmin.BrokerState) -> TaggedField {
        TaggedField(tag: tag, data: ByteBuffer(bytes: [state.rawValue]))
    }

    public static func state(of broker: DescribeClusterResponse.DescribeClusterBroker) -> ClusterAdmin.BrokerState {
        guard let field = broker.unknownTaggedFields.first(where: { $0.tag == tag }),
            let raw = field.data.getInteger(at: field.data.readerIndex, as: UInt8.self)
        else { return .registered }
        return ClusterAdmin.BrokerState(rawValue: raw) ?? .registered
    }
}
