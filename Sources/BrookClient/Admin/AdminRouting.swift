import BrookProtocol

/// Where the admin clients send their requests, and how they read a Kafka error code.
///
/// Kafka's admin client sends topic changes to the controller and describes to the least loaded
/// broker; with one connection per broker and no load figures, these helpers send both to the
/// controller the metadata names, or to the first broker when it names none (-1).
extension Cluster {
    /// A connection to the controller, or to any broker when the metadata names no controller.
    func controllerConnection() async throws -> BrokerConnection {
        let metadata = try await metadata(topics: [])
        let known = Set(metadata.brokers.map(\.nodeId))
        let node = known.contains(metadata.controllerId) ? metadata.controllerId : metadata.brokers.map(\.nodeId).min()
        guard let node else { throw ClientError.notFound("the cluster reports no brokers") }
        return try await connection(to: node)
    }

    /// Metadata for `topics`, never creating one: unlike ``metadata(topics:)``, which lets a
    /// broker with `auto.create.topics.enable` create the topics it is asked about, this answers
    /// UNKNOWN_TOPIC_OR_PARTITION for a missing topic. All topics when `topics` is nil.
    func metadataWithoutCreation(topics: [String]?) async throws -> MetadataResponse {
        guard let topics else { return try await metadata(topics: nil) }
        let connection = try await controllerConnection()
        let version = try connection.negotiatedVersion(of: MetadataRequest.self)
        var request = MetadataRequest(topics: topics.map { MetadataRequest.MetadataRequestTopic(name: $0) })
        if version >= 4 { request.allowAutoTopicCreation = false }
        return try await connection.send(request, version: version)
    }
}

/// Throws the Kafka error `code` names, if any, as ``ClientError/broker(_:_:)`` carrying the
/// broker's message or, when it sent none, `fallback`.
func throwIfKafkaError(_ code: Int16, _ message: String?, _ fallback: @autoclosure () -> String? = nil) throws {
    guard code != ErrorCode.none.rawValue else { return }
    let text = message.flatMap { $0.isEmpty ? nil : $0 } ?? fallback()
    throw ClientError.broker(ErrorCode(rawValue: code) ?? .unknownServerError, text)
}

extension Duration {
    /// Whole milliseconds, clamped to what an Int32 timeout field holds.
    var clampedMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1_000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, milliseconds))
    }
}
