import BrookProtocol

/// What an operator asks of the cluster as a whole (kafka-cluster, Kafka's
/// `Admin.describeCluster`): its id, its controller and its brokers.
public struct ClusterAdmin: Sendable {
    public let cluster: Cluster

    public init(cluster: Cluster) {
        self.cluster = cluster
    }

    /// A broker and where it listens.
    public struct Broker: Sendable, Equatable {
        public var id: Int32
        public var host: String
        public var port: Int32
        public var rack: String?

        public init(id: Int32, host: String, port: Int32, rack: String? = nil) {
            self.id = id
            self.host = host
            self.port = port
            self.rack = rack
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
        let response = try await connection.send(DescribeClusterRequest())
        try throwIfKafkaError(response.errorCode, response.errorMessage, "DescribeCluster")
        return Description(
            clusterId: response.clusterId, controllerId: response.controllerId >= 0 ? response.controllerId : nil,
            brokers: response.brokers.map { Broker(id: $0.brokerId, host: $0.host, port: $0.port, rack: $0.rack) }.sorted { $0.id < $1.id }
        )
    }
}
