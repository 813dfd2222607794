import BrookProtocol

/// AllocateProducerIds (KIP-730): a broker asks the active controller for a block of producer
/// ids; the controller records the block (ProducerIdsRecord) before handing it out, so no id is
/// ever given twice.
struct AllocateProducerIdsHandler: RequestHandler {
    let controller: ControllerClient
    let metadata: MetadataStore
    var versions: ClosedRange<Int16> { AllocateProducerIdsRequest.validVersions }

    func handle(_ request: AllocateProducerIdsRequest, context: RequestContext) async throws -> AllocateProducerIdsResponse? {
        guard controller.isController else { return AllocateProducerIdsResponse(errorCode: ErrorCode.notController.rawValue) }
        do {
            let block = try metadata.allocateProducerIds(count: ProducerIdManager.blockSize)
            return AllocateProducerIdsResponse(producerIdStart: block.lowerBound, producerIdLen: Int32(block.count))
        } catch {
            return AllocateProducerIdsResponse(errorCode: error.code.rawValue)
        }
    }
}
