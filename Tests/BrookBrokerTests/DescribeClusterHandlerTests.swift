@testable import BrookBroker
import BrookClient
import BrookProtocol
import Testing

@Suite struct DescribeClusterHandlerTests {
    @Test(arguments: 0...1) func brokersAndController(version: Int16) async throws {
        let fixture = try AdminFixture()
        let handler = DescribeClusterHandler(metadata: fixture.metadata)
        let response = try await serve(handler, DescribeClusterRequest(), version: version)
        #expect(response.errorCode == ErrorCode.none.code)
        #expect(response.clusterId == "test-cluster")
        #expect(response.controllerId == 1)
        #expect(response.brokers.map(\.brokerId) == [1])
        #expect(response.brokers.first?.port == 9092)
        #expect(response.clusterAuthorizedOperations == Int32.min)

        let withOperations = try await serve(handler, DescribeClusterRequest(includeClusterAuthorizedOperations: true), version: version)
        // CREATE(5), ALTER(7), DESCRIBE(8), CLUSTER_ACTION(9), DESCRIBE_CONFIGS(10), ALTER_CONFIGS(11), IDEMPOTENT_WRITE(12)
        #expect(withOperations.clusterAuthorizedOperations == 0b1_1111_1010_0000)
    }

    @Test func onlyBrokerEndpointsAreDescribed() async throws {
        let fixture = try AdminFixture()
        let handler = DescribeClusterHandler(metadata: fixture.metadata)
        let controllers = try await serve(handler, DescribeClusterRequest(endpointType: 2), version: 1)
        #expect(controllers.errorCode == ErrorCode.mismatchedEndpointType.code)
        #expect(controllers.brokers.isEmpty)
        let unknown = try await serve(handler, DescribeClusterRequest(endpointType: 7), version: 1)
        #expect(unknown.errorCode == ErrorCode.unsupportedEndpointType.code)
    }

    @Test func brookAsksForEveryRegisteredBrokerWithItsState() async throws {
        let fixture = try AdminFixture()
        fixture.metadata.applyCommitted((1...3).map { id in
            .registerBroker(RegisterBrokerRecord(
                brokerId: id, brokerEpoch: 5, endPoints: [.init(name: "PLAINTEXT", host: "h\(id)", port: 9092, securityProtocol: 0)],
                fenced: id == 2))
        } + [.brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 3, brokerEpoch: 5, fenced: 1, inControlledShutdown: 1))])
        let handler = DescribeClusterHandler(metadata: fixture.metadata)

        let plain = try await serve(handler, DescribeClusterRequest(), version: 1)
        #expect(plain.brokers.map(\.brokerId) == [1], "Kafka's answer: the brokers that are not fenced")
        var request = DescribeClusterRequest()
        request.unknownTaggedFields = [DescribeClusterStates.request]
        let all = try await serve(handler, request, version: 1)
        #expect(all.brokers.map(\.brokerId) == [1, 2, 3])
        #expect(all.brokers.map(DescribeClusterStates.state(of:)) == [.registered, .fenced, .controlledShutdown])

        // A change for another epoch is stale; unfencing ends the controlled shutdown.
        fixture.metadata.applyCommitted([
            .brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 2, brokerEpoch: 4, fenced: -1)),
            .brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 3, brokerEpoch: 5, fenced: -1)),
        ])
        let after = try await serve(handler, request, version: 1)
        #expect(after.brokers.map(DescribeClusterStates.state(of:)) == [.registered, .fenced, .registered])
    }
}
