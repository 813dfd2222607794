import BrookRecords
import NIOCore
import PropertyBased
import Testing

@Suite struct RecordBatchRoundTripTests {
    @Test func buildValidateDecodeRoundTrip() async {
        await propertyCheck(count: 300, input: Generators.batchSpec()) { spec in
            let bytes = try spec.build()
            let batch = try RecordBatch(bytes)
            try batch.validate()
            let configuration = spec.configuration
            #expect(batch.baseOffset == configuration.baseOffset)
            #expect(batch.sizeInBytes == bytes.readableBytes)
            #expect(batch.batchLength == Int32(bytes.readableBytes - 12))
            #expect(batch.partitionLeaderEpoch == configuration.partitionLeaderEpoch)
            #expect(batch.magic == 2)
            #expect(batch.compression == configuration.compression)
            #expect(batch.timestampType == configuration.timestampType)
            #expect(batch.isTransactional == configuration.isTransactional)
            #expect(batch.isControlBatch == configuration.isControlBatch)
            #expect(batch.producerId == configuration.producerId)
            #expect(batch.producerEpoch == configuration.producerEpoch)
            #expect(batch.baseSequence == configuration.baseSequence)
            #expect(batch.recordCount == Int32(spec.records.count))
            #expect(batch.lastOffset == spec.records.last!.offset)
            #expect(batch.deleteHorizonMs == configuration.deleteHorizonMs)
            if configuration.deleteHorizonMs == nil {
                #expect(batch.baseTimestamp == spec.records.first!.timestamp)
            }
            let expectedMax = configuration.maxTimestamp ?? spec.records.map(\.timestamp).max()!
            #expect(batch.maxTimestamp == expectedMax)
            #expect(try batch.records() == spec.expectedRecords)
        }
    }

    @Test func producerBatchesPassProduceValidation() async {
        await propertyCheck(count: 50, input: Generators.payload(maxLength: 100)) { payload in
            var builder = RecordBatchBuilder(configuration: .init(compression: .lz4, producerId: 7, producerEpoch: 1, baseSequence: 10))
            for index in 0..<5 {
                builder.append(timestamp: 1_700_000_000_000 + Int64(index), key: nil, value: ByteBuffer(bytes: payload))
            }
            let batch = try RecordBatch(try builder.build())
            try batch.validateAsProduced()
            #expect(batch.lastSequence == 14)
            #expect(try batch.records().map(\.offset) == [0, 1, 2, 3, 4])
        }
    }

    @Test func reencodingGivesIdenticalBytes() async {
        await propertyCheck(count: 200, input: Generators.batchSpec(allowLogAppendTime: false)) { spec in
            let original = try spec.build()
            let batch = try RecordBatch(original)
            var builder = RecordBatchBuilder(configuration: .init(matching: batch))
            for record in try batch.records() {
                try builder.append(record)
            }
            let reencoded = try builder.build()
            #expect(reencoded == original)
        }
    }

    @Test func keysAndValuesAreSlicesOfTheBatch() throws {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 5, key: ByteBuffer(string: "k"), value: ByteBuffer(string: "value"))
        let bytes = try builder.build()
        let record = try RecordBatch(bytes).records()[0]
        let batchBase = bytes.withUnsafeReadableBytes { $0.baseAddress! }
        let valueBase = record.value!.withUnsafeReadableBytes { $0.baseAddress! }
        #expect(valueBase > batchBase && valueBase < batchBase + bytes.readableBytes)
        #expect(record.key == ByteBuffer(string: "k"))
    }

    @Test func sequentialAppendsAssignOffsetsAndTimestamps() throws {
        var builder = RecordBatchBuilder(configuration: .init(baseOffset: 100))
        builder.append(timestamp: 1_000, key: nil, value: nil)
        builder.append(timestamp: 900, key: ByteBuffer(string: "k"), value: nil, headers: [.init(key: "h", value: nil)])
        #expect(builder.recordCount == 2)
        let batch = try RecordBatch(try builder.build())
        try batch.validate()
        #expect(batch.baseTimestamp == 1_000)
        #expect(batch.maxTimestamp == 1_000)
        #expect(batch.lastOffsetDelta == 1)
        let records = try batch.records()
        #expect(records.map(\.offset) == [100, 101])
        #expect(records.map(\.timestamp) == [1_000, 900])
        #expect(records[1].headers == [.init(key: "h", value: nil)])
    }

    @Test func appendRejectsOffsetsThatDoNotIncrease() throws {
        var builder = RecordBatchBuilder(configuration: .init(baseOffset: 10))
        try builder.append(Record(offset: 12, timestamp: 0, key: nil, value: nil))
        #expect(throws: RecordBatchError.self) {
            try builder.append(Record(offset: 12, timestamp: 0, key: nil, value: nil))
        }
        #expect(throws: RecordBatchError.self) {
            try builder.append(Record(offset: 9, timestamp: 0, key: nil, value: nil))
        }
        #expect(throws: RecordBatchError.self) {
            try builder.append(Record(offset: 10 + Int64(Int32.max) + 1, timestamp: 0, key: nil, value: nil))
        }
    }

    @Test(arguments: [ControlRecordType.commit, .abort])
    func endTransactionMarkers(type: ControlRecordType) throws {
        let bytes = try RecordBatchBuilder.endTransactionMarkerBatch(
            type, producerId: 42, producerEpoch: 3, coordinatorEpoch: 17, timestamp: 1_234, baseOffset: 77)
        let batch = try RecordBatch(bytes)
        try batch.validateAsProduced()
        #expect(batch.isControlBatch)
        #expect(batch.isTransactional)
        #expect(batch.producerId == 42)
        #expect(batch.producerEpoch == 3)
        #expect(batch.baseSequence == -1)
        let records = try batch.records()
        #expect(records.count == 1)
        #expect(records[0].offset == 77)
        #expect(records[0].timestamp == 1_234)
        #expect(try records[0].controlKey() == ControlRecordKey(version: 0, type: type))
        #expect(try EndTransactionMarker(decoding: records[0].value!) == EndTransactionMarker(coordinatorEpoch: 17))
        #expect(records[0].key!.bytesArray == [0, 0, 0, UInt8(type.rawValue)])
        #expect(records[0].value!.bytesArray == [0, 0, 0, 0, 0, 17])
    }

    @Test func markersMustBeCommitOrAbort() {
        #expect(throws: RecordBatchError.self) {
            try RecordBatchBuilder.endTransactionMarkerBatch(
                .leaderChange, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 0)
        }
    }

    @Test func malformedControlRecordsThrow() {
        let shortKey = Record(offset: 0, timestamp: 0, key: ByteBuffer(bytes: [0, 0, 1]), value: nil)
        #expect(throws: RecordBatchError.invalidControlRecord(reason: "key has 3 bytes, needs 4")) {
            try shortKey.controlKey()
        }
        let nullKey = Record(offset: 0, timestamp: 0, key: nil, value: nil)
        #expect(throws: RecordBatchError.invalidControlRecord(reason: "null key")) { try nullKey.controlKey() }
        #expect(throws: RecordBatchError.self) { try EndTransactionMarker(decoding: ByteBuffer(bytes: [0, 0, 0])) }
        #expect(ControlRecordType(rawValue: 9).description == "controlType(9)")
    }

    @Test func compactedEmptyBatchWithCodecBitsDecodesToNothing() throws {
        for codec in CompressionCodec.allCases {
            let bytes = rawBatch(records: [], recordCount: 0, lastOffsetDelta: 5, attributes: Int16(codec.rawValue))
            let batch = try RecordBatch(bytes)
            try batch.validate()
            #expect(try batch.records().isEmpty)
            #expect(batch.nextOffset == 6)
        }
    }

    @Test func attributesBits() {
        var attributes = RecordBatchAttributes(
            compression: .zstd, timestampType: .logAppendTime, isTransactional: true, isControlBatch: true,
            hasDeleteHorizonMs: true)
        #expect(attributes.rawValue == 0b111_1100)
        attributes.compression = .snappy
        attributes.isControlBatch = false
        #expect(attributes.rawValue == 0b101_1010)
        #expect(RecordBatchAttributes(rawValue: 7).compression == nil)
        #expect(RecordBatchAttributes(rawValue: 7).compressionBits == 7)
    }
}
