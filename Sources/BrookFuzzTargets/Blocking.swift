import Dispatch
import Foundation

/// Runs async work from the synchronous fuzz entry point: the work runs as a task on the
/// concurrency pool while the calling thread (libFuzzer's) waits on a semaphore.
enum Blocking {
    struct TimedOut: Error {}

    static func run<T: Sendable>(
        timeout seconds: Double, _ body: @escaping @Sendable () async throws -> T
    ) throws -> T {
        let result = Locked<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let outcome: Result<T, any Error>
            do {
                outcome = .success(try await body())
            } catch {
                outcome = .failure(error)
            }
            result.update { $0 = outcome }
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .success, let outcome = result.value else {
            throw TimedOut()
        }
        return try outcome.get()
    }
}

/// A value behind a lock, for the little state the harness shares across threads.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) {
        stored = value
    }

    var value: Value { lock.withLock { stored } }

    func update(_ body: (inout Value) -> Void) {
        lock.withLock { body(&stored) }
    }
}
