/// Timeouts of the quorum in milliseconds, with Kafka's `controller.quorum.*` defaults.
public struct RaftConfiguration: Sendable {
    /// `controller.quorum.election.timeout.ms`: a voter without a leader stands for election
    /// after this plus a random part of it.
    public var electionTimeout: Int64 = 1000
    /// `controller.quorum.fetch.timeout.ms`: a follower that has not heard from its leader for
    /// this long looks for a new one; a leader that has not heard from a majority for 1.5 times
    /// this long resigns.
    public var fetchTimeout: Int64 = 2000
    /// `controller.quorum.election.backoff.max.ms`: the longest wait before a lost election is
    /// retried.
    public var electionBackoffMax: Int64 = 1000
    /// `controller.quorum.request.timeout.ms`: an unanswered fetch or BeginQuorumEpoch is sent
    /// again after this long.
    public var requestTimeout: Int64 = 2000
    /// How long a follower whose fetch came back empty waits before fetching again (the broker's
    /// driver long-polls instead).
    public var idleFetchBackoff: Int64 = 50
    /// The most entries one fetch answer carries.
    public var maxFetchEntries = 256
    /// The most snapshot bytes one FetchSnapshot answer carries.
    public var maxSnapshotChunkBytes = 1 << 20
    /// KIP-853 (kraft.version 1): the voter set changes through the log, so a replica grants
    /// votes to candidates outside its own view of it (the candidate counts only its voters'
    /// answers). With a static voter set, candidates outside it are refused.
    public var dynamicVoters = false
    /// KIP-996: stand for election only after a majority said it would vote.
    public var preVote = true

    public init() {}
}
