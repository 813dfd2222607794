import BrookProtocol

extension MetadataImage.Partition {
    /// The partition as broker `broker`, in the process registered as `incarnation`, may act on
    /// it: led by nobody while its metadata does not hold that registration yet. Until then, a
    /// restarted broker replays what its previous process saw (leading in epochs long over,
    /// with in-sync replicas long gone) and must neither serve nor fetch on it; the
    /// registration comes with the controller's moves away from it, so what follows is current.
    /// (Kafka's brokers publish no metadata to their partitions until caught up.)
    package static func served(_ partition: Self, in image: MetadataImage, by broker: Int32, incarnation: Uuid) -> Self {
        guard image.registrations[broker]?.incarnation != incarnation else { return partition }
        var unled = partition
        unled.leader = -1
        return unled
    }
}
