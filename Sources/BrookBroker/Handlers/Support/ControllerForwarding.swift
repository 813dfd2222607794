import BrookProtocol

/// A metadata change that only the active controller can commit (CreateTopics, DeleteTopics,
/// CreatePartitions, topic config changes), served by any broker of a cluster as Kafka's
/// brokers do (KIP-590): on the controller `inner` handles it; elsewhere the request goes on to
/// the controller at the client's version and the controller's answer comes back unchanged.
///
/// When the controller cannot be reached (none elected yet, or it just failed) `inner` handles
/// the request here, which answers each item NOT_CONTROLLER or REQUEST_TIMED_OUT, errors Kafka
/// clients retry after refreshing their metadata.
struct ForwardedToController<Inner: RequestHandler>: RequestHandler {
    typealias Request = Inner.Request
    let inner: Inner
    let controller: ControllerClient
    /// Whether a request must go to the controller; those it does not hold are served here.
    var needsController: @Sendable (Request) -> Bool = { _ in true }

    var versions: ClosedRange<Int16> { inner.versions }

    func handle(_ request: Request, context: RequestContext) async throws -> Request.Response? {
        guard !controller.isController, !context.isForwarded, needsController(request) else {
            return try await inner.handle(request, context: context)
        }
        do {
            // With ACLs the controller must authorize the client, not this broker: an Envelope
            // carries the client's principal.
            if context.checksAcls {
                return try await controller.sendEnveloped(request, version: context.apiVersion, context: context)
            }
            return try await controller.send(request, version: context.apiVersion)
        } catch {
            return try await inner.handle(request, context: context)
        }
    }
}
