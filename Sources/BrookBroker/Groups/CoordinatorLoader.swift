import NIOPosix
import Synchronization

/// Why a coordinator cannot take a request now.
enum CoordinatorUnavailable: Error, CustomStringConvertible {
    /// Its topic is being replayed: COORDINATOR_LOAD_IN_PROGRESS, which clients retry.
    case loadInProgress
    /// Loading failed (the next request tries again): COORDINATOR_NOT_AVAILABLE.
    case failed(String)

    var description: String {
        switch self {
        case .loadInProgress: "the coordinator is loading"
        case .failed(let reason): "the coordinator could not be loaded: \(reason)"
        }
    }
}

/// Loads a coordinator (group or transaction) once, in the background, as Kafka does: while
/// its topic is replayed on a thread made for blocking work, requests are answered
/// COORDINATOR_LOAD_IN_PROGRESS instead of waiting on a lock, and the first request after a
/// failed load starts another. The group and transaction coordinator hosts share it.
final class CoordinatorLoader<Coordinator: Sendable>: Sendable {
    private enum State {
        case idle
        /// `inline`: loading on a caller's thread, with ``creation`` held.
        case loading(inline: Bool)
        case ready(Coordinator)
        case closed
    }

    private let state = Mutex<State>(.idle)
    /// Held by an inline load (nothing to replay: brief); callers arriving meanwhile wait on it
    /// rather than being told to retry.
    private let creation = Mutex<Void>(())
    private let load: @Sendable () throws -> Coordinator
    private let shutdown: @Sendable (Coordinator) -> Void
    private let reportFailure: @Sendable (any Error) -> Void
    private let pool: NIOThreadPool

    /// Threads for loads only, so that a load never queues behind other blocking work (log
    /// maintenance, a slow disk's fsyncs).
    static var loadThreads: NIOThreadPool { coordinatorLoadThreads }

    /// `load` builds and replays the coordinator; `shutdown` stops one that finished loading
    /// after ``close()``; `reportFailure` hears of a background load that failed (the next
    /// request starts another).
    init(
        pool: NIOThreadPool = CoordinatorLoader.loadThreads, load: @escaping @Sendable () throws -> Coordinator,
        shutdown: @escaping @Sendable (Coordinator) -> Void, reportFailure: @escaping @Sendable (any Error) -> Void
    ) {
        self.pool = pool
        self.load = load
        self.shutdown = shutdown
        self.reportFailure = reportFailure
    }

    /// The coordinator once loaded.
    var ready: Coordinator? {
        state.withLock { state in
            if case .ready(let coordinator) = state { return coordinator }
            return nil
        }
    }

    private var isLoadingInline: Bool {
        state.withLock { state in
            if case .loading(inline: true) = state { return true }
            return false
        }
    }

    /// The coordinator, or ``CoordinatorUnavailable/loadInProgress`` after starting a load
    /// (if none is under way). With `inline` (nothing to replay, as when its topic is about to
    /// be created) the first caller loads it on its own thread instead; callers meanwhile are
    /// told the load is in progress. One load at a time, always.
    func coordinator(inline: Bool = false) throws(CoordinatorUnavailable) -> Coordinator {
        if let coordinator = ready { return coordinator }
        if inline || isLoadingInline {
            do {
                return try creation.withLock { _ in try loadNow() }
            } catch let unavailable as CoordinatorUnavailable {
                throw unavailable
            } catch {
                throw .failed("\(error)")
            }
        }
        let (loaded, start) = try state.withLock { (state: inout State) throws(CoordinatorUnavailable) -> (Coordinator?, Bool) in
            switch state {
            case .ready(let coordinator): return (coordinator, false)
            case .loading: return (nil, false)
            case .closed: throw .failed("the broker is shutting down")
            case .idle:
                state = .loading(inline: false)
                return (nil, true)
            }
        }
        if let loaded { return loaded }
        if start { startLoading() }
        throw .loadInProgress
    }

    /// Starts loading in the background unless loaded or loading (broker start-up).
    func loadInBackground() {
        let start = state.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .loading(inline: false)
            return true
        }
        if start { startLoading() }
    }

    /// Loads on the calling thread unless loaded (tests, and topics with nothing to replay);
    /// throws ``CoordinatorUnavailable/loadInProgress`` while another load runs.
    @discardableResult
    func loadNow() throws -> Coordinator {
        let loaded = try state.withLock { (state: inout State) throws -> Coordinator? in
            switch state {
            case .ready(let coordinator): return coordinator
            case .loading: throw CoordinatorUnavailable.loadInProgress
            case .closed: throw CoordinatorUnavailable.failed("the broker is shutting down")
            case .idle:
                state = .loading(inline: true)
                return nil
            }
        }
        if let loaded { return loaded }
        let outcome = Result { try load() }
        guard finish(outcome) else { throw CoordinatorUnavailable.failed("the broker is shutting down") }
        return try outcome.get()
    }

    /// Stops handing out the coordinator; one still loading is shut down when it finishes.
    func close() {
        state.withLock { $0 = .closed }
    }

    /// ``close()``, returning the loaded coordinator for the caller to shut down.
    func retire() -> Coordinator? {
        state.withLock { state in
            defer { state = .closed }
            if case .ready(let coordinator) = state { return coordinator }
            return nil
        }
    }

    private func startLoading() {
        pool.submit { [self] _ in
            let outcome = Result { try load() }
            _ = finish(outcome)
            if case .failure(let error) = outcome { reportFailure(error) }
        }
    }

    /// Records a finished load: its coordinator becomes the ready one, or, after a failure,
    /// the loader is idle again so that the next request retries. A coordinator that finished
    /// after ``close()`` is shut down; returns false then.
    private func finish(_ outcome: Result<Coordinator, any Error>) -> Bool {
        let orphan: Coordinator? = state.withLock { state in
            switch (state, outcome) {
            case (.loading, .success(let coordinator)):
                state = .ready(coordinator)
                return nil
            case (.loading, .failure):
                state = .idle
                return nil
            case (_, .success(let coordinator)):
                return coordinator
            case (_, .failure):
                return nil
            }
        }
        guard let orphan else { return true }
        shutdown(orphan)
        return false
    }
}

private let coordinatorLoadThreads: NIOThreadPool = {
    let pool = NIOThreadPool(numberOfThreads: 2)
    pool.start()
    return pool
}()
