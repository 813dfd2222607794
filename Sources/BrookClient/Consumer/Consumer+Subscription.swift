import Synchronization
import BrookModel

/// Subscribing: the consumer joins its group (`group.id`) and the group assigns the partitions.
extension Consumer {
    /// Consumes `topics` as a member of the consumer group: the group's assignment decides which
    /// of their partitions this consumer reads, and changes as members come and go (see
    /// `ConsumerConfiguration.groupProtocol` and the rebalance callbacks). Calling it again
    /// replaces the subscription.
    public func subscribe(topics: [String]) throws {
        try subscribe(.topics(Set(topics)))
    }

    /// Consumes every topic whose whole name matches the regular expression `pattern`, including
    /// topics created later (found when the metadata is read again, every `metadata.max.age.ms`).
    /// KIP-848 members hand the pattern to the broker, which matches it.
    public func subscribe(pattern: String) throws {
        do {
            _ = try Regex(pattern)
        } catch {
            throw ClientError.notFound("'\(pattern)' is not a regular expression: \(error)")
        }
        try subscribe(.pattern(pattern))
    }

    /// Leaves the group: the partitions are revoked (committed with auto-commit) and the
    /// assignment is empty.
    public func unsubscribe() async {
        await membership.withLock { membership -> (any GroupMembership)? in
            defer { membership = nil }
            return membership
        }?.close()
    }

    private func subscribe(_ subscription: Subscription) throws {
        guard let groupId = configuration.groupId else { throw ClientError.notFound("subscribing needs a group.id") }
        let (member, isNew) = membership.withLock { membership -> (any GroupMembership, Bool) in
            if let membership { return (membership, false) }
            let made: any GroupMembership = switch configuration.groupProtocol {
            case .classic: ClassicGroupMember(consumer: self, groupId: groupId, subscription: subscription)
            case .consumer: ConsumerGroupMember(consumer: self, groupId: groupId, subscription: subscription)
            }
            membership = made
            return (made, true)
        }
        if isNew {
            member.start()
        } else {
            member.subscribe(subscription)
        }
    }
}
