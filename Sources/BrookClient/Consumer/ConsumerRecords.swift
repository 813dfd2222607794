/// The records of a ``Consumer`` as an `AsyncSequence`: each step polls until records arrive.
/// The sequence ends when the consumer is closed (or the task cancelled) and throws what
/// ``Consumer/poll(timeout:)`` throws.
public struct ConsumerRecords: AsyncSequence, Sendable {
    public typealias Element = ConsumerRecord

    let consumer: Consumer
    /// How long each poll waits.
    let pollTimeout: Duration

    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: Consumer
        let pollTimeout: Duration
        var buffered: [ConsumerRecord] = []
        var index = 0

        public mutating func next() async throws -> ConsumerRecord? {
            while index == buffered.count {
                guard !Task.isCancelled else { return nil }
                do {
                    buffered = try await consumer.poll(timeout: pollTimeout)
                } catch let error as ClientError {
                    if case .closed = error { return nil }  // the consumer was closed
                    throw error
                }
                index = 0
            }
            defer { index += 1 }
            return buffered[index]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(consumer: consumer, pollTimeout: pollTimeout)
    }
}

extension Consumer {
    /// Every record this consumer receives, in poll order:
    /// `for try await record in consumer.records { … }`.
    public var records: ConsumerRecords { ConsumerRecords(consumer: self, pollTimeout: .seconds(1)) }
}
