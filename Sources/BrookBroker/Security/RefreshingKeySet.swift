import BrookSecurity
import Foundation
import NIOSSL
import Synchronization

/// A JSON Web Key Set served over HTTPS (KIP-768's `sasl.oauthbearer.jwks.endpoint.url`):
/// fetched when made and again every `refreshMs`; a failed fetch is tried again after
/// `retryBackoffMs`, doubling up to `retryBackoffMaxMs`. A token that names a key the set lacks
/// (or comes while there is no set) has it fetched at once, at most once a second, so that an
/// issuer's new keys are picked up without waiting for the next refresh. Tokens are checked
/// against the last set fetched.
final class RefreshingKeySet: Sendable {
    let url: URL
    let refreshMs: Int64
    let retryBackoffMs: Int64
    let retryBackoffMaxMs: Int64
    /// The least time between two fetches a token asks for.
    static let soonestRefetch: Duration = .seconds(1)
    private let tls: NIOSSLContext
    private let verifiesHostname: Bool

    private struct State {
        var keys: JsonWebKeySet?
        var lastAttempt: ContinuousClock.Instant?
        var lastError: String?
        var failures = 0
        var fetching = false
    }

    private let state = Mutex(State())
    private let refresher = Mutex<Task<Void, Never>?>(nil)

    init(url: URL, tls: NIOSSLContext, verifiesHostname: Bool, refreshMs: Int64, retryBackoffMs: Int64, retryBackoffMaxMs: Int64) {
        self.url = url
        self.tls = tls
        self.verifiesHostname = verifiesHostname
        self.refreshMs = refreshMs
        self.retryBackoffMs = retryBackoffMs
        self.retryBackoffMaxMs = retryBackoffMaxMs
    }

    deinit {
        refresher.withLock { $0?.cancel() }
    }

    /// Fetches now, then again as the refresh interval and the backoff say, until the set goes.
    func start() {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                // The set is held only while it fetches, not while the loop sleeps.
                guard let delay = await self?.fetch() else { return }
                try? await Task.sleep(for: delay)
            }
        }
        refresher.withLock { $0 = task }
    }

    /// The last key set fetched; throws why there is none yet.
    func keys() throws -> JsonWebKeySet {
        let (keys, lastError) = state.withLock { ($0.keys, $0.lastError) }
        guard let keys else {
            refreshSoon()
            throw HttpsFetch.Failed(description: "the key set at \(url) is not fetched yet\(lastError.map { ": \($0)" } ?? "")")
        }
        return keys
    }

    /// A token named a key the set lacks: fetch again, unless a fetch is under way or the last
    /// began less than ``soonestRefetch`` ago.
    func refreshSoon() {
        let due = state.withLock { state in
            !state.fetching && state.lastAttempt.map { ContinuousClock.now - $0 >= Self.soonestRefetch } ?? true
        }
        if due { Task { _ = await fetch() } }
    }

    /// Fetches and keeps the key set (a failure keeps the previous one); how long to wait
    /// before the next periodic fetch.
    @discardableResult
    func fetch() async -> Duration {
        let begin = state.withLock { state -> Bool in
            guard !state.fetching else { return false }
            state.fetching = true
            state.lastAttempt = .now
            return true
        }
        guard begin else { return .milliseconds(retryBackoffMs) }
        var fetched: JsonWebKeySet?
        var failure: String?
        do {
            fetched = try JsonWebKeySet(json: try await HttpsFetch.get(url, tls: tls, verifiesHostname: verifiesHostname))
        } catch {
            failure = "\(error)"
        }
        return state.withLock { state in
            state.fetching = false
            state.lastError = failure
            guard let fetched else {
                state.failures += 1
                return Self.backoff(failures: state.failures, initialMs: retryBackoffMs, maximumMs: retryBackoffMaxMs)
            }
            state.keys = fetched
            state.failures = 0
            return .milliseconds(refreshMs)
        }
    }

    /// The wait after `failures` failed fetches in a row: `initialMs` doubled each time, at most `maximumMs`.
    static func backoff(failures: Int, initialMs: Int64, maximumMs: Int64) -> Duration {
        let doublings = min(max(0, failures - 1), 30)
        let (scaled, overflow) = max(1, initialMs).multipliedReportingOverflow(by: Int64(1) << doublings)
        return .milliseconds(overflow ? maximumMs : min(scaled, max(maximumMs, 1)))
    }
}
