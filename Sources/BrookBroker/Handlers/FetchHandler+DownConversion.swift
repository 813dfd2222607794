import BrookProtocol
import BrookRecords
import BrookStorage
import NIOCore

extension FetchHandler {
    /// Fetch v0-3 predate v2 batches: the region's batches are read into memory and
    /// down-converted to a magic 0 (v0-1) or magic 1 (v2-3) message set, sent inline.
    static func downConvert(_ region: LogFileRegion, version: Int16, fetchOffset: Int64, into data: inout FetchResponse.PartitionData) {
        do {
            let bytes = try region.readBytes()
            data.records = try MessageSetWriter.downConvert(bytes, toMagic: version >= 2 ? 1 : 0, fromOffset: fetchOffset)
        } catch is MessageSetError {
            data.errorCode = ErrorCode.corruptMessage.rawValue
            data.records = nil
        } catch {
            data.errorCode = ErrorCode.unknownServerError.rawValue
            data.records = nil
        }
    }
}
