import BrookProtocol
import NIOCore

extension FuzzTarget {
    /// The whole request path against an in-process broker on a temporary directory: a stream of
    /// size-prefixed request frames, each decoded, routed to its handler as a connection would
    /// route it, and its response checked (its correlation id, and its body decodes as the
    /// response of the request's API and version). The broker lives as long as the process, so
    /// one input can set up state (a group, a transaction) that a later one runs into.
    public static let broker = FuzzTarget(
        name: "broker",
        summary: "size-prefixed stream -> frames -> RequestRouter and handlers of an in-process broker -> response checks"
    ) { bytes throws(FuzzFailure) in
        let (frames, _) = try RequestPath.frames(in: bytes)
        guard !frames.isEmpty else { return .rejected }
        let broker = try FuzzBroker.shared.get()
        var outcome = FuzzOutcome.rejected
        for bytes in frames {
            guard let (frame, request) = try RequestPath.decode(bytes) else { break }
            outcome = .accepted
            // As a connection does: the first request the router cannot serve closes it.
            guard try broker.serve(frame, decoded: request) else { break }
        }
        return outcome
    }
}
