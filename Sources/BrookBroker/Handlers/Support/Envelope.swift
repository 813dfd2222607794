import BrookProtocol
import Logging
import NIOCore
import Synchronization

/// Kafka's Envelope (KIP-590): a broker forwards a client's request to the active controller
/// inside an EnvelopeRequest that names the client's principal and address, so that the
/// controller authorizes the client, not the broker that passed it on. The principal travels as
/// its UTF-8 text (`User:alice`) and the address as its text form: only Brook brokers read them.
enum Envelope {
    struct Refused: Error, CustomStringConvertible {
        let code: ErrorCode
        var description: String { "the controller refused the envelope: \(code)" }
    }

    /// `request` at `version`, wrapped for the controller on behalf of the client of `context`.
    static func wrap<Request: KafkaRequest>(_ request: Request, version: Int16, context: RequestContext) throws -> EnvelopeRequest {
        var data = ByteBuffer()
        let header = RequestHeader(
            requestApiKey: Request.apiKey.rawValue, requestApiVersion: version, correlationId: context.correlationId,
            clientId: context.clientId)
        try header.write(to: &data, version: Request.apiKey.requestHeaderVersion(version))
        try request.write(to: &data, version: version)
        return EnvelopeRequest(
            requestData: data, requestPrincipal: ByteBuffer(string: context.principal),
            clientHostAddress: ByteBuffer(string: context.remoteAddress?.ipAddress ?? ""))
    }

    /// The controller's answer to a wrapped `Request` at `version`.
    static func unwrap<Request: KafkaRequest>(_ response: EnvelopeResponse, as _: Request.Type, version: Int16) throws -> Request.Response {
        guard response.errorCode == 0, var data = response.responseData else {
            throw Refused(code: ErrorCode(rawValue: response.errorCode) ?? .unknownServerError)
        }
        _ = try ResponseHeader(from: &data, version: Request.apiKey.responseHeaderVersion(version))
        return try Request.Response(from: &data, version: version)
    }
}

/// Where the Envelope handler finds the router it serves the wrapped requests with (set once the
/// router is complete).
final class RouterReference: Sendable {
    private let router = Mutex<RequestRouter?>(nil)

    init() {}

    func set(_ router: RequestRouter) {
        self.router.withLock { $0 = router }
    }

    var current: RequestRouter? { router.withLock { $0 } }
}

/// Envelope, on the controller: a request another broker forwarded, served as its client's.
/// The forwarding broker needs CLUSTER_ACTION (as in Kafka); envelopes do not nest.
struct EnvelopeHandler: RequestHandler {
    typealias Request = EnvelopeRequest
    let versions: ClosedRange<Int16> = 0...0
    let router: RouterReference
    let authorizer: AclAuthorizer?
    let logger: Logger

    func handle(_ request: EnvelopeRequest, context: RequestContext) async throws -> EnvelopeResponse? {
        guard context.authorizedOnCluster(.clusterAction) else {
            return EnvelopeResponse(responseData: nil, errorCode: ErrorCode.clusterAuthorizationFailed.rawValue)
        }
        guard let router = router.current, let principal = request.requestPrincipal.map({ String(buffer: $0) }),
            let frame = try? RequestFrame(frame: request.requestData), frame.apiKey != .envelope
        else { return EnvelopeResponse(responseData: nil, errorCode: ErrorCode.invalidRequest.rawValue) }
        let host = String(buffer: request.clientHostAddress)
        var inner = RequestContext(
            header: frame.header, apiVersion: frame.apiVersion, remoteAddress: context.remoteAddress, listenerName: context.listenerName)
        inner.principal = principal
        inner.authorization = authorizer.map { ConnectionAuthorization(authorizer: $0, host: host, logger: logger) }
        guard case .frame(var answer) = await router.route(frame, context: inner), answer.readableBytes >= 4 else {
            return EnvelopeResponse(responseData: nil, errorCode: ErrorCode.unknownServerError.rawValue)
        }
        answer.moveReaderIndex(forwardBy: 4)  // the size prefix
        return EnvelopeResponse(responseData: answer, errorCode: 0)
    }
}
