import NIOCore

/// Zero-copy encoding of Fetch responses.
///
/// The generated encoder copies each partition's records into the output. A broker serving
/// records from files wants to send them with `sendfile` instead, so this encoder writes the
/// response as a list of segments: encoded bytes, and holes where a partition's records go,
/// which the caller fills with file regions. The bytes around the holes are exactly what the
/// generated encoder writes (a test compares the two at every version).
extension FetchResponse {
    /// A piece of an encoded response frame.
    public enum Segment: Sendable {
        case bytes(ByteBuffer)
        /// The records of `responses[topic].partitions[partition]`, `length` bytes, sent from elsewhere.
        case records(topic: Int, partition: Int, length: Int)
    }

    /// Encodes a complete response frame (size prefix and header included). For each partition,
    /// `externalLength(topic, partition)` returns the byte length of records supplied from
    /// elsewhere, or nil to encode the partition's `records` inline.
    public func frameSegments(
        version: Int16, correlationId: Int32, externalLength: (Int, Int) -> Int?
    ) throws(ProtocolError) -> [Segment] {
        guard Self.validVersions.contains(version) else {
            throw .unsupportedVersion(message: Self.messageName, version: version)
        }
        let flexible = version >= 12
        var writer = SegmentWriter()
        try ResponseHeader(correlationId: correlationId).write(to: &writer.current, version: ApiKey.fetch.responseHeaderVersion(version))
        if version >= 1 { writer.current.writeInt32(throttleTimeMs) }
        if version >= 7 {
            writer.current.writeInt16(errorCode)
            writer.current.writeInt32(sessionId)
        } else if sessionId != 0 {
            throw .fieldNotInVersion(field: "SessionId", version: version)
        }
        writer.writeCount(responses.count, compact: flexible)
        for (topicIndex, topic) in responses.enumerated() {
            if version <= 12 { writer.current.writeString(topic.topic, compact: flexible) }
            if version >= 13 { writer.current.writeUuid(topic.topicId) }
            writer.writeCount(topic.partitions.count, compact: flexible)
            for (partitionIndex, partition) in topic.partitions.enumerated() {
                let length = externalLength(topicIndex, partitionIndex)
                try writer.write(partition, version: version, externalLength: length) { length in
                    .records(topic: topicIndex, partition: partitionIndex, length: length)
                }
            }
            if flexible { try writeTagged(topic.unknownTaggedFields, known: [], into: &writer.current) }
        }
        if flexible {
            var known: [(UInt32, ByteBuffer)] = []
            if version >= 16 && !nodeEndpoints.isEmpty {
                var field = ByteBuffer()
                try field.writeArray(nodeEndpoints, compact: true) { (b: inout ByteBuffer, v: NodeEndpoint) throws(ProtocolError) in
                    try v.write(to: &b, version: version)
                }
                known.append((0, field))
            }
            try writeTagged(unknownTaggedFields, known: known, into: &writer.current)
        }
        return writer.finish()
    }
}

/// Accumulates bytes and holes, then prefixes the frame size.
private struct SegmentWriter {
    var segments: [FetchResponse.Segment] = []
    var current = ByteBuffer()
    var externalBytes = 0

    mutating func writeCount(_ count: Int, compact: Bool) {
        if compact {
            current.writeUnsignedVarint(UInt64(count) + 1)
        } else {
            current.writeInt32(Int32(count))
        }
    }

    mutating func write(
        _ partition: FetchResponse.PartitionData, version: Int16, externalLength: Int?,
        hole: (Int) -> FetchResponse.Segment
    ) throws(ProtocolError) {
        let flexible = version >= 12
        current.writeInt32(partition.partitionIndex)
        current.writeInt16(partition.errorCode)
        current.writeInt64(partition.highWatermark)
        if version >= 4 { current.writeInt64(partition.lastStableOffset) }
        if version >= 5 { current.writeInt64(partition.logStartOffset) }
        if version >= 4 {
            try current.writeNullableArray(partition.abortedTransactions, compact: flexible) {
                (b: inout ByteBuffer, v: FetchResponse.AbortedTransaction) throws(ProtocolError) in
                try v.write(to: &b, version: version)
            }
        }
        if version >= 11 {
            current.writeInt32(partition.preferredReadReplica)
        } else if partition.preferredReadReplica != -1 {
            throw .fieldNotInVersion(field: "PreferredReadReplica", version: version)
        }
        if let externalLength {
            if flexible {
                current.writeUnsignedVarint(UInt64(externalLength) + 1)
            } else {
                current.writeInt32(Int32(externalLength))
            }
            segments.append(.bytes(current))
            current = ByteBuffer()
            segments.append(hole(externalLength))
            externalBytes += externalLength
        } else {
            try current.writeNullableBytes(partition.records, compact: flexible)
        }
        guard flexible else { return }
        var known: [(UInt32, ByteBuffer)] = []
        if partition.divergingEpoch != FetchResponse.EpochEndOffset() {
            known.append((0, try partition.divergingEpoch.encodedField(version: version)))
        }
        if partition.currentLeader != FetchResponse.LeaderIdAndEpoch() {
            known.append((1, try partition.currentLeader.encodedField(version: version)))
        }
        if partition.snapshotId != FetchResponse.SnapshotId() {
            known.append((2, try partition.snapshotId.encodedField(version: version)))
        }
        try writeTagged(partition.unknownTaggedFields, known: known, into: &current)
    }

    mutating func finish() -> [FetchResponse.Segment] {
        if current.readableBytes > 0 { segments.append(.bytes(current)) }
        var total = externalBytes
        for case .bytes(let bytes) in segments { total += bytes.readableBytes }
        var prefix = ByteBuffer()
        prefix.writeInt32(Int32(total))
        if case .bytes(var first) = segments.first {
            prefix.writeBuffer(&first)
            segments[0] = .bytes(prefix)
        } else {
            segments.insert(.bytes(prefix), at: 0)
        }
        return segments
    }
}

extension ProtocolStruct {
    fileprivate func encodedField(version: Int16) throws(ProtocolError) -> ByteBuffer {
        var buffer = ByteBuffer()
        try write(to: &buffer, version: version)
        return buffer
    }
}

/// Writes a tagged-field section: known fields (tag, encoded value) merged with unknown ones in
/// ascending tag order.
private func writeTagged(_ unknown: [TaggedField], known: [(UInt32, ByteBuffer)], into buffer: inout ByteBuffer) throws(ProtocolError) {
    var all = known.map { TaggedField(tag: $0.0, data: $0.1) } + unknown
    all.sort { $0.tag < $1.tag }
    buffer.writeUnsignedVarint(UInt64(all.count))
    var index = 0
    buffer.writeUnknownTaggedFields(all, below: .max, from: &index)
}
