import BrookProtocol
import NIOCore

/// Dispatches requests by API key to their handlers.
///
/// The table is also the source of the ApiVersions answer, so advertised versions cannot drift
/// from what is served.
public struct RequestRouter: Sendable {
    private var handlers: [Int16: AnyRequestHandler] = [:]

    public init() {}

    /// Registers a handler; the last registration for an API wins.
    public mutating func register<Handler: RequestHandler>(_ handler: Handler) {
        register(handler, on: nil)
    }

    /// Registers a handler that may block (on a coordinator's log, a metadata fsync): it runs on
    /// `threads` rather than on the cooperative pool.
    mutating func register<Handler: RequestHandler>(_ handler: Handler, on threads: BlockingWorkThreads?) {
        let erased = AnyRequestHandler(handler, on: threads)
        handlers[erased.apiKey.rawValue] = erased
    }

    /// Registers a handler that frames its own responses.
    mutating func register<Handler: FramingRequestHandler>(framing handler: Handler, on threads: BlockingWorkThreads? = nil) {
        let erased = AnyRequestHandler(framing: handler, on: threads)
        handlers[erased.apiKey.rawValue] = erased
    }

    /// The APIs and versions served, sorted by key, for ApiVersions.
    public var supportedVersions: [(ApiKey, ClosedRange<Int16>)] {
        handlers.values.map { ($0.apiKey, $0.versions) }.sorted { $0.0.rawValue < $1.0.rawValue }
    }

    /// Whether `version` of the API with `key` is served.
    public func serves(key: Int16, version: Int16) -> Bool {
        handlers[key]?.versions.contains(version) ?? false
    }

    package func route(_ frame: RequestFrame, context: RequestContext) async -> RoutedResponse {
        guard let handler = handlers[frame.apiKeyValue] else {
            return .closeConnection(reason: "unknown API key \(frame.apiKeyValue)")
        }
        guard handler.versions.contains(frame.apiVersion) else {
            if frame.apiKey == .apiVersions {
                return unsupportedApiVersions(correlationId: frame.header.correlationId)
            }
            return .closeConnection(reason: "unsupported \(handler.apiKey.name) version \(frame.apiVersion)")
        }
        return await handler.serve(frame, context)
    }

    /// Kafka's answer to an ApiVersions request of a version it does not know: a v0 response with
    /// UNSUPPORTED_VERSION and the supported ranges, so the client can pick a version it shares.
    func unsupportedApiVersions(correlationId: Int32) -> RoutedResponse {
        var response = ApiVersionsResponse(errorCode: ErrorCode.unsupportedVersion.rawValue)
        response.apiKeys = apiVersionEntries()
        var output = ByteBuffer()
        do {
            try output.writeResponseFrame(response, version: 0, correlationId: correlationId)
        } catch {
            return .closeConnection(reason: "cannot encode ApiVersions: \(error)")
        }
        return .frame(output)
    }

    func apiVersionEntries() -> [ApiVersionsResponse.ApiVersion] {
        supportedVersions.map { key, versions in
            ApiVersionsResponse.ApiVersion(apiKey: key.rawValue, minVersion: versions.lowerBound, maxVersion: versions.upperBound)
        }
    }
}
