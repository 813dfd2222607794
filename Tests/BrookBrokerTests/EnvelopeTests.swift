@testable import BrookBroker
import BrookProtocol
import Logging
import NIOCore
import Testing

/// Envelope forwarding: the controller serves a forwarded request as its client's.
@Suite struct EnvelopeTests {
    /// Answers with the principal and host it was served for.
    struct WhoAmI: RequestHandler {
        typealias Request = DescribeAclsRequest
        let versions: ClosedRange<Int16> = 0...3

        func handle(_ request: DescribeAclsRequest, context: RequestContext) async throws -> DescribeAclsResponse? {
            let allowed = context.authorized(.describe, .topic, request.resourceNameFilter ?? "")
            return DescribeAclsResponse(errorCode: allowed ? 0 : ErrorCode.topicAuthorizationFailed.rawValue, errorMessage: context.principal)
        }
    }

    static func context(principal: String, authorizer: AclAuthorizer?) -> RequestContext {
        let header = RequestHeader(requestApiKey: ApiKey.describeAcls.rawValue, requestApiVersion: 3, correlationId: 9, clientId: "app")
        var context = RequestContext(header: header, apiVersion: 3, remoteAddress: try? SocketAddress(ipAddress: "10.1.2.3", port: 5000), listenerName: "SASL_PLAINTEXT")
        context.principal = principal
        context.authorization = authorizer.map { ConnectionAuthorization(authorizer: $0, host: "10.9.9.9", logger: Logger(label: "test")) }
        return context
    }

    @Test func theControllerServesTheWrappedRequestAsTheClientsPrincipal() async throws {
        let authorizer = AclAuthorizer(superUsers: ["User:ANONYMOUS"], allowEveryoneIfNoAclFound: false)
        authorizer.update([AclBinding(
            resourceType: .topic, resourceName: "orders", patternType: .literal, principal: "User:alice", host: "10.1.2.3",
            operation: .read, permission: .allow)])
        var router = RequestRouter()
        router.register(WhoAmI())
        let reference = RouterReference()
        reference.set(router)
        let handler = EnvelopeHandler(router: reference, authorizer: authorizer, logger: Logger(label: "test"))
        let client = Self.context(principal: "User:alice", authorizer: authorizer)
        // The forwarding broker is User:ANONYMOUS, a super user here; the client is alice, from 10.1.2.3.
        let broker = Self.context(principal: "User:ANONYMOUS", authorizer: authorizer)
        for (topic, expected) in [("orders", ErrorCode.none), ("payments", .topicAuthorizationFailed)] {
            let request = DescribeAclsRequest(resourceNameFilter: topic)
            let envelope = try Envelope.wrap(request, version: 3, context: client)
            let answer = try #require(try await handler.handle(envelope, context: broker))
            let response = try Envelope.unwrap(answer, as: DescribeAclsRequest.self, version: 3)
            #expect(response.errorMessage == "User:alice")
            #expect(response.errorCode == expected.rawValue, "\(topic)")
        }
    }

    @Test func aBrokerWithoutClusterActionCannotForward() async throws {
        let authorizer = AclAuthorizer(superUsers: [], allowEveryoneIfNoAclFound: false)
        let reference = RouterReference()
        reference.set(RequestRouter())
        let handler = EnvelopeHandler(router: reference, authorizer: authorizer, logger: Logger(label: "test"))
        let envelope = try Envelope.wrap(DescribeAclsRequest(), version: 3, context: Self.context(principal: "User:alice", authorizer: nil))
        let answer = try #require(try await handler.handle(envelope, context: Self.context(principal: "User:mallory", authorizer: authorizer)))
        #expect(answer.errorCode == ErrorCode.clusterAuthorizationFailed.rawValue)
        #expect(throws: Envelope.Refused.self) { try Envelope.unwrap(answer, as: DescribeAclsRequest.self, version: 3) }
        // Garbage inside an envelope is refused, not served.
        let garbage = EnvelopeRequest(requestData: ByteBuffer(bytes: [0, 1]), requestPrincipal: ByteBuffer(string: "User:x"))
        let refused = try #require(try await handler.handle(garbage, context: Self.context(principal: "User:ANONYMOUS", authorizer: nil)))
        #expect(refused.errorCode == ErrorCode.invalidRequest.rawValue)
    }
}
