@testable import BrookBroker
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
}
