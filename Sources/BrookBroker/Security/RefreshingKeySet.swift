import BrookSecurity
import Foundation
import NIOSSL
import Synchronization

/// A JSON Web Key Set served over HTTPS (KIP-768's `sasl.oauthbearer.jwks.endpoint.url`):
/// fetched when made, again every `refreshMs`, and sooner when a token names a key it lacks
/// (at most once per `retryBackoffMs`), so that an issuer's new keys are picked up at once.
/// Tokens are checked against the last key set fetched; none is there before the first fetch.
final class RefreshingKeySet: Sendable {
    let url: URL
    let refreshMs: Int64
    let retryBackoffMs: Int64
    private let tls: NIOSSLContext
    private let verifiesHostname: Bool

    private struct State {
        var keys: JsonWebKeySet?
        var lastAttempt: ContinuousClock.Instant?
        var lastError: String?
        var fetching = false
    }

    private let state = Mutex(State())

    init(url: URL, tls: NIOSSLContext, verifiesHostname: Bool, refreshMs: Int64, retryBackoffMs: Int64) {
        self.url = url
        self.tls = tls
        self.verifiesHostname = verifiesHostname
        self.refreshMs = refreshMs
        self.retryBackoffMs = retryBackoffMs
    }

    /// Fetches now, then every `refreshMs` for as long as the key set is in use.
    func start() {
        let refreshMs = refreshMs
        Task { [weak self] in
            while !Task.isCancelled {
                guard let set = self else { return }
                await set.fetch()
                try? await Task.sleep(for: .milliseconds(refreshMs))
            }
        }
    }

    /// The last key set fetched; throws why there is none yet.
    func keys() throws -> JsonWebKeySet {
        try state.withLock { state in
            guard let keys = state.keys else {
                throw HttpsFetch.Failed(description: "the key set at \(url) is not fetched yet\(state.lastError.map { ": \($0)" } ?? "")")
            }
            return keys
        }
    }

    /// A token named a key the set lacks: fetch again, unless a fetch is under way or the last
    /// began less than `retryBackoffMs` ago.
    func refreshSoon() {
        let due = state.withLock { state in
            !state.fetching && state.lastAttempt.map { ContinuousClock.now - $0 >= .milliseconds(retryBackoffMs) } ?? true
        }
        if due { Task { await fetch() } }
    }

    /// Fetches and keeps the key set; a failure keeps the previous one.
    func fetch() async {
        let begin = state.withLock { state -> Bool in
            guard !state.fetching else { return false }
            state.fetching = true
            state.lastAttempt = .now
            return true
        }
        guard begin else { return }
        var fetched: JsonWebKeySet?
        var failure: String?
        do {
            fetched = try JsonWebKeySet(json: try await HttpsFetch.get(url, tls: tls, verifiesHostname: verifiesHostname))
        } catch {
            failure = "\(error)"
        }
        state.withLock { state in
            state.fetching = false
            if let fetched { state.keys = fetched }
            state.lastError = failure
        }
    }
}
