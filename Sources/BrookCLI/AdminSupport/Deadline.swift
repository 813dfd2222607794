import Synchronization

/// A bound on how long a command waits for the cluster.
///
/// The client's requests have no deadline of their own, and a peer that accepts the connection
/// but never answers (a wrong port, a stopped process still holding its socket) would keep a
/// command waiting forever. ``run(after:_:)`` does not wait for the work to notice: when the
/// time is up it returns ``Expired`` at once and abandons the work, which is right for a
/// command that is about to exit, and only for that.
enum Deadline {
    /// The work did not finish in time.
    struct Expired: Error {
        var after: Duration
    }

    /// The result of `work`, or ``Expired`` once `timeout` has passed.
    static func run<Result: Sendable>(after timeout: Duration, _ work: @escaping @Sendable () async throws -> Result) async throws -> Result {
        let race = Race<Result>()
        return try await withCheckedThrowingContinuation { continuation in
            race.start(continuation)
            let worker = Task {
                do {
                    race.finish(.success(try await work()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            race.arm(Task {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                race.finish(.failure(Expired(after: timeout)))
                worker.cancel()
            })
        }
    }

    /// The continuation the first of the work and the timer resumes, and the timer to cancel.
    private final class Race<Result: Sendable>: Sendable {
        private let state = Mutex<(waiting: CheckedContinuation<Result, any Error>?, timer: Task<Void, Never>?, done: Bool)>((nil, nil, false))

        func start(_ continuation: CheckedContinuation<Result, any Error>) {
            state.withLock { $0.waiting = continuation }
        }

        /// Keeps the timer to cancel it when the work finishes first (at once if it already has).
        func arm(_ timer: Task<Void, Never>) {
            let finished = state.withLock { state in
                state.timer = timer
                return state.done
            }
            if finished { timer.cancel() }
        }

        /// Resumes the caller with the first outcome; later ones are dropped.
        func finish(_ outcome: Swift.Result<Result, any Error>) {
            let (continuation, timer) = state.withLock { state in
                defer { state = (nil, nil, true) }
                return (state.waiting, state.timer)
            }
            timer?.cancel()
            continuation?.resume(with: outcome)
        }
    }
}
