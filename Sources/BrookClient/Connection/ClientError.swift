import BrookProtocol

/// Why a client call failed.
public enum ClientError: Error, CustomStringConvertible, Sendable {
    /// The connection closed before the response arrived.
    case connectionClosed(broker: String)
    /// No connection could be opened to the broker.
    case unreachable(broker: String)
    /// The broker did not answer within the time the caller allowed.
    case timedOut(broker: String)
    /// The broker does not serve any version of the API this client speaks.
    case unsupportedApi(ApiKey, broker: String)
    /// A response did not answer the request it was matched with.
    case correlationMismatch(expected: Int32, received: Int32)
    /// The broker answered with an error code.
    case broker(ErrorCode, String?)
    /// Nothing in the cluster answers for this.
    case notFound(String)
    /// The client was closed before the call (Kafka's "This consumer has already been closed").
    case closed(String)

    /// The connection broke or could not be opened: retrying on a new connection may work.
    public var isConnectionFailure: Bool {
        switch self {
        case .connectionClosed, .unreachable: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .connectionClosed(let broker): "the connection to \(broker) closed"
        case .unreachable(let broker): "cannot connect to \(broker)"
        case .timedOut(let broker): "\(broker) did not answer in time"
        case .unsupportedApi(let key, let broker): "\(broker) does not support \(key.name)"
        case .correlationMismatch(let expected, let received): "response \(received) arrived for request \(expected)"
        case .broker(let code, let message): "\(code.kafkaName)\(message.map { ": \($0)" } ?? "")"
        case .notFound(let what): what
        case .closed(let client): "the \(client) is closed"
        }
    }
}
