@testable import BrookBroker
import BrookProtocol
import Testing

@Suite struct DescribeTopicPartitionsHandlerTests {
    typealias Cursor = DescribeTopicPartitionsRequest.Cursor

    func pages(_ fixture: AdminFixture, topics: [String], limit: Int32) async throws -> [[String]] {
        let handler = DescribeTopicPartitionsHandler(metadata: fixture.metadata)
        var cursor: Cursor?
        var pages: [[String]] = []
        repeat {
            let request = DescribeTopicPartitionsRequest(topics: topics.map { .init(name: $0) }, responsePartitionLimit: limit, cursor: cursor)
            let response = try await serve(handler, request, version: 0)
            pages.append(response.topics.flatMap { topic in
                topic.errorCode == 0 ? topic.partitions.map { "\(topic.name ?? "")-\($0.partitionIndex)" } : ["\(topic.name ?? ""):\(topic.errorCode)"]
            })
            cursor = response.nextCursor.map { Cursor(topicName: $0.topicName, partitionIndex: $0.partitionIndex) }
        } while cursor != nil && pages.count < 20
        return pages
    }

    @Test func allTopicsArePagedByPartitionLimitAndCursor() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("b", partitions: 3)
        try fixture.topic("a", partitions: 2)
        try fixture.topic("c", partitions: 1)
        #expect(try await pages(fixture, topics: [], limit: 2) == [["a-0", "a-1"], ["b-0", "b-1"], ["b-2", "c-0"]])
        #expect(try await pages(fixture, topics: [], limit: 2000) == [["a-0", "a-1", "b-0", "b-1", "b-2", "c-0"]])
        #expect(try await pages(fixture, topics: [], limit: 0).count == 6)
    }

    @Test func namedTopicsIncludeErrors() async throws {
        let fixture = try AdminFixture()
        let created = try fixture.topic("t", partitions: 2)
        let pages = try await pages(fixture, topics: ["t", "missing", "bad name"], limit: 10)
        #expect(pages == [["bad name:\(ErrorCode.invalidTopicException.code)", "missing:\(ErrorCode.unknownTopicOrPartition.code)", "t-0", "t-1"]])

        let handler = DescribeTopicPartitionsHandler(metadata: fixture.metadata)
        let response = try await serve(handler, DescribeTopicPartitionsRequest(topics: [.init(name: "t")]), version: 0)
        let topic = try #require(response.topics.first)
        #expect(topic.topicId == created.id)
        #expect(topic.partitions.map(\.leaderId) == [1, 1])
        #expect(topic.partitions.first?.eligibleLeaderReplicas == [])
        #expect(topic.topicAuthorizedOperations == [3, 4, 5, 6, 7, 8, 10, 11].reduce(Int32(0)) { $0 | (1 << $1) })
        #expect(response.nextCursor == nil)
    }

    @Test func aCursorOutsideTheTopicListIsInvalid() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t")
        let handler = DescribeTopicPartitionsHandler(metadata: fixture.metadata)
        let request = DescribeTopicPartitionsRequest(topics: [.init(name: "t")], cursor: .init(topicName: "u", partitionIndex: 0))
        let response = try await serve(handler, request, version: 0)
        #expect(response.topics.map(\.errorCode) == [ErrorCode.invalidRequest.code])
    }
}
