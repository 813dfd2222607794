import BrookModel

extension ConsumerGroup {
    /// Moves the member that heartbeats one step towards its target assignment, as Kafka's
    /// coordinator does (`ConsumerMemberState` names the steps).
    ///
    /// Revoking blocks: a member with partitions to give up keeps its epoch and its assignment
    /// stays as it is, whatever the target does meanwhile, until a heartbeat reports owned
    /// partitions without the revoked ones (a heartbeat that leaves `owned` out reports
    /// nothing). Only then is the next step computed, against the target of that moment. The
    /// rebalance timeout runs from when the revocation was asked for.
    ///
    /// A step keeps the assigned partitions that are still in the target and revokes the
    /// others — unless `owned` shows the member does not own any of them (it never took them,
    /// or it is a static member's new incarnation): then there is nothing to wait for. With no
    /// revocation the member moves to the target epoch with the target partitions it keeps plus
    /// those no other member holds; the others it receives in a later heartbeat.
    mutating func reconcile(_ memberId: String, owned: Set<TopicPartition>?, now: Int64) {
        guard var member = members[memberId] else { return }
        switch member.state {
        case .stable:
            guard member.epoch != assignmentEpoch else { return }
            step(&member, revocationEpoch: member.epoch, owned: owned, now: now)
        case .unrevokedPartitions:
            guard let owned, owned.isDisjoint(with: member.pendingRevocation) else { return }
            member.pendingRevocation = []
            // As in Kafka, a further revocation asked for at once comes with the next epoch
            // (still below the target epoch, which is ahead of this one).
            step(&member, revocationEpoch: member.epoch + 1, owned: owned, now: now)
        case .unreleasedPartitions:
            step(&member, revocationEpoch: member.epoch, owned: owned, now: now)
        }
        members[memberId] = member
    }

    private func step(_ member: inout ConsumerMember, revocationEpoch: Int32, owned: Set<TopicPartition>?, now: Int64) {
        let goal = target[member.memberId] ?? []
        let kept = member.assigned.intersection(goal)
        let revoked = member.assigned.subtracting(kept)
        if !revoked.isEmpty && !(owned?.isDisjoint(with: revoked) ?? false) {
            member.move(to: revocationEpoch)
            member.state = .unrevokedPartitions
            member.assigned = kept
            member.pendingRevocation = revoked
            member.revocationDeadline = now + Int64(max(member.rebalanceTimeoutMs, 0))
            return
        }
        let wanted = goal.subtracting(kept)
        let free = wanted.subtracting(heldPartitions(except: member.memberId))
        member.move(to: assignmentEpoch)
        member.state = free.count == wanted.count ? .stable : .unreleasedPartitions
        member.assigned = kept.union(free)
        member.pendingRevocation = []
        member.revocationDeadline = nil
    }

    /// The partitions other members hold: assigned, or revoked but not yet released.
    private func heldPartitions(except memberId: String) -> Set<TopicPartition> {
        var held = Set<TopicPartition>()
        for other in members.values where other.memberId != memberId {
            held.formUnion(other.assigned)
            held.formUnion(other.pendingRevocation)
        }
        return held
    }
}
