import BrookClient
import BrookProtocol

extension CommandFailure {
    /// What stopped an admin command, in one line: a Kafka error by the name Kafka gives it
    /// (`TOPIC_ALREADY_EXISTS: Topic 'orders' already exists.`) with the broker's message, or
    /// what kept the command from the cluster. Kafka's tools print the message of the exception
    /// that stopped them; these never print a trace.
    init(describing error: any Error, bootstrapServers: String) {
        switch error {
        case let failure as CommandFailure:
            self = failure
        case let expired as Deadline.Expired:
            self.init("no answer from the cluster at \(bootstrapServers) within \(expired.after) (see --timeout-ms)")
        case ClientError.broker(let code, let message):
            self.init(code.kafkaName + (message.flatMap { $0.isEmpty ? nil : ": \($0)" } ?? ""))
        case let error as ClientError:
            self.init(error.description)
        default:
            self.init("\(bootstrapServers): \(error)")
        }
    }
}
