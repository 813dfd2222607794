import BrookProtocol
import NIOCore

/// Serves one Kafka API. One type per API, in `Handlers/`.
public protocol RequestHandler: Sendable {
    associatedtype Request: KafkaRequest
    /// The versions this handler serves; the ApiVersions answer is derived from them.
    var versions: ClosedRange<Int16> { get }
    /// Handles a decoded request. Returning nil sends no response (Produce with acks=0).
    func handle(_ request: Request, context: RequestContext) async throws -> Request.Response?
}

/// The outcome of routing one frame.
package enum RoutedResponse: Sendable {
    /// Bytes to send: a complete frame, size prefix included.
    case frame(ByteBuffer)
    /// A complete frame in parts (bytes and file regions), sent in order; the file handles are
    /// closed once the parts have been written.
    case parts([IOData], fileHandles: [NIOFileHandle])
    /// Nothing to send.
    case none
    /// The request cannot be served; Kafka closes the connection.
    case closeConnection(reason: String)
    /// The request's ordered work is done (a Produce's appends); the answer is what `answer`
    /// returns once what it waits for has happened (their fsync). The connection may read and
    /// serve its next requests meanwhile, and still answers in request order.
    case later(@Sendable () async -> RoutedResponse)

    /// The answer, once a ``later(_:)`` one is ready.
    package func resolved() async -> RoutedResponse {
        guard case .later(let answer) = self else { return self }
        return await answer().resolved()
    }
}

/// A handler that frames its own response, for APIs whose responses carry file regions.
protocol FramingRequestHandler: Sendable {
    associatedtype Request: KafkaRequest
    var versions: ClosedRange<Int16> { get }
    func respond(to request: Request, context: RequestContext) async throws -> RoutedResponse
}

/// A type-erased handler: decodes the body, runs the handler, encodes the framed response.
///
/// The time a handler takes counts against the client's `request_percentage` quota; over it,
/// the response says how long the client is throttled (`throttle_time_ms`, when it has one) and
/// the connection is muted that long. Time spent waiting for other clients or for data (a
/// long-poll Fetch, a JoinGroup held for its rebalance) does not count (``RequestTimer``), nor
/// do the requests nodes send each other (``RequestTimer/exemptApis``, followers' fetches).
struct AnyRequestHandler: Sendable {
    let apiKey: ApiKey
    let versions: ClosedRange<Int16>
    let serve: @Sendable (RequestFrame, RequestContext) async -> RoutedResponse

    init<Handler: RequestHandler>(_ handler: Handler, on threads: BlockingWorkThreads? = nil) {
        self.init(Handler.Request.self, versions: handler.versions, threads: threads) { request, context, frame in
            let handled = try await handler.handle(request, context: context)
            let throttle = context.requestThrottle()
            guard var response = handled else { return .none }
            if throttle > 0 { response = Self.reporting(throttle, in: response) }
            var output = ByteBuffer()
            try output.writeResponseFrame(response, version: frame.apiVersion, correlationId: frame.header.correlationId)
            return .frame(output)
        }
    }

    init<Handler: FramingRequestHandler>(framing handler: Handler, on threads: BlockingWorkThreads? = nil) {
        self.init(Handler.Request.self, versions: handler.versions, threads: threads) { request, context, _ in
            // Produce and Fetch answer with the request throttle where they can; else it mutes.
            defer { _ = context.requestThrottle() }
            return try await handler.respond(to: request, context: context)
        }
    }

    /// `response` telling the client it is throttled for at least `throttle` ms.
    static func reporting<Response: KafkaResponse>(_ throttle: Int32, in response: Response) -> Response {
        guard var throttled = response as? any ThrottledResponse else { return response }
        throttled.throttleTimeMs = max(throttled.throttleTimeMs, throttle)
        return throttled as? Response ?? response
    }

    /// Decodes the body as `Request` and runs `respond` (on `threads` when given); a body that
    /// does not decode, or a handler that fails, closes the connection, as Kafka does.
    private init<Request: KafkaRequest>(
        _: Request.Type, versions: ClosedRange<Int16>, threads: BlockingWorkThreads?,
        respond: @escaping @Sendable (Request, RequestContext, RequestFrame) async throws -> RoutedResponse
    ) {
        apiKey = Request.apiKey
        self.versions = versions
        serve = { frame, context in
            var body = frame.body
            let request: Request
            do {
                request = try Request(from: &body, version: frame.apiVersion)
            } catch {
                return .closeConnection(reason: "malformed \(Request.apiKey.name) v\(frame.apiVersion) request: \(error)")
            }
            @Sendable func answer() async -> RoutedResponse {
                // request_percentage: the handler's time, recorded once its response is made.
                var context = context
                if context.quotas?.manager.isActive == true, !RequestTimer.exemptApis.contains(Request.apiKey) {
                    context.requestTimer = RequestTimer()
                }
                do {
                    return try await respond(request, context, frame)
                } catch {
                    return .closeConnection(reason: "\(Request.apiKey.name) failed: \(error)")
                }
            }
            guard let threads else { return await answer() }
            return await withTaskExecutorPreference(threads) { await answer() }
        }
    }
}
