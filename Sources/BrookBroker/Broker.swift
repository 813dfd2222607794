import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookRaft
import BrookStorage
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The composition root: opens storage and the metadata log, builds the handlers and the network
/// server from a ``BrokerConfig``, and exposes them as services for one `ServiceGroup`.
public struct Broker: Sendable {
    public let config: BrokerConfigStore
    public let metadata: MetadataStore
    public let server: KafkaServer
    /// The listeners as bound (with ephemeral ports resolved).
    public let boundListeners: [BrokerConfig.Listener]
    let storage: StorageService
    let maintenance: LogMaintenanceService
    let groups: GroupCoordinatorService
    let transactions: TransactionCoordinatorService
    let directoryWatch: LogDirectoryFailureService
    let threads: BlockingThreadsService
    /// The metadata quorum's service, when `controller.quorum.voters` names a quorum.
    let quorum: QuorumService?
    /// This node's broker registration and heartbeats, in a cluster.
    let lifecycle: BrokerLifecycleService?
    /// The replica fetchers and ISR checks, in a cluster.
    let replication: ReplicationService?

    /// The services to run, in start order; a `ServiceGroup` stops them in reverse, so the
    /// coordinators stop first (parked group requests are answered), then the network stops,
    /// then storage is flushed and closed, then the threads of blocking handlers end. The
    /// directory watch throws when storage is lost; run the services with
    /// `failureTerminationBehavior: .gracefullyShutdownGroup` so that the rest then stops in
    /// that order.
    public var services: [any Service] {
        [threads, storage] + (quorum.map { [$0] } ?? []) + [maintenance, server] + (replication.map { [$0] } ?? [])
            + (lifecycle.map { [$0] } ?? []) + [groups, transactions, directoryWatch]
    }

    /// Opens storage and metadata, recovers the logs and binds the listeners.
    public static func start(config: BrokerConfig, logger: Logger) async throws -> Broker {
        let nodeId = config.nodeId
        var logsConfiguration = LogManager.Configuration(
            logDirs: config.logDirs,
            recoveryThreadsPerDataDir: max(1, config.int("num.recovery.threads.per.data.dir"))
        )
        logsConfiguration.cleaner = LogCleaner.Configuration(
            offsetMapMemoryBytes: Int(max(1024, (config.int64("log.cleaner.dedupe.buffer.size") ?? 134_217_728)
                / Int64(max(1, config.int("log.cleaner.threads"))))),
            loadFactor: Double(config.string("log.cleaner.io.buffer.load.factor") ?? "") ?? 0.9
        )
        let (directoryFailures, reportFailure) = AsyncStream.makeStream(of: (String, StorageError).self)
        logsConfiguration.onDirectoryOffline = { directory, error in reportFailure.yield((directory, error)) }
        logsConfiguration.strayLogFound = { stray in
            logger.warning("\(stray.partition) holds topic id \(stray.foundTopicId), not \(stray.expectedTopicId): set aside as \(stray.path), not served")
        }
        let logs = try LogManager(configuration: logsConfiguration)
        for (directory, clean) in logs.hadCleanShutdown.sorted(by: { $0.key < $1.key }) where !clean {
            logger.info("\(directory) was not shut down cleanly: recovering its logs")
        }

        // The metadata log comes first: it says which topics exist.
        let metadataDirectory = config.string("metadata.log.dir") ?? config.logDirs[0]
        let metadataHealth = logs.health[metadataDirectory] ?? LogDirectoryHealth(
            directory: metadataDirectory, onOffline: { directory, error in reportFailure.yield((directory, error)) })
        var metadataLogConfig = LogConfig()
        metadataLogConfig.segmentBytes = config.int("metadata.log.segment.bytes")
        let metadataLog = try PartitionLog.open(
            directory: metadataDirectory + "/" + "__cluster_metadata-0", config: metadataLogConfig,
            recoveryPoint: 0, hadCleanShutdown: false, health: metadataHealth
        )

        // Bind next, so that port 0 can be advertised as the port actually bound.
        let security = try Self.listenerSecurity(config)
        let interNode = try Self.interNodeSecurity(config)
        let bound = try await KafkaServer.bind(configuration: .init(
            listeners: try config.listeners, maximumRequestSize: config.socketRequestMaxBytes,
            idleTimeout: .milliseconds(config.connectionsMaxIdleMs), queuedMaxRequestBytes: config.queuedMaxRequestBytes,
            security: security
        ))
        let advertised = try Self.advertisedListeners(config: config, bound: bound.map(\.listener))
        let endpoints = brokerListeners(config, advertised: advertised).map {
            ($0.name, MetadataImage.Broker(nodeId: nodeId, host: $0.host, port: Int32($0.port), rack: config.string("broker.rack")))
        }
        let brokers = endpoints.prefix(1).map(\.1)
        let membership = try Self.quorumMembership(config)
        let clusterId = try StorageFormat.verify(config, inQuorum: membership != nil).description
        let metadata: MetadataStore
        var quorum: QuorumDriver?
        if let (voters, bootstrapServers) = membership {
            // The metadata quorum replicates __cluster_metadata-0; the image builds up as it commits.
            let replicated = QuorumMetadataLog()
            var quorumConfiguration = QuorumDriver.Configuration(
                localID: BrokerID(nodeId), voters: voters, clusterId: clusterId, bootstrapServers: bootstrapServers)
            quorumConfiguration.raft.dynamicVoters = voters.isEmpty
            if let interNode { quorumConfiguration.peerSecurity = interNode.controllers }
            if let listener = StorageFormat.controllerListener(in: advertised + bound.map(\.listener), config: config) {
                quorumConfiguration.localEndpoint = QuorumDriver.Voter(id: BrokerID(nodeId), host: listener.host, port: listener.port)
            }
            quorumConfiguration.raft.electionTimeout = Int64(config.int("controller.quorum.election.timeout.ms"))
            quorumConfiguration.raft.fetchTimeout = Int64(config.int("controller.quorum.fetch.timeout.ms"))
            quorumConfiguration.raft.electionBackoffMax = Int64(config.int("controller.quorum.election.backoff.max.ms"))
            quorumConfiguration.raft.requestTimeout = Int64(config.int("controller.quorum.request.timeout.ms"))
            quorumConfiguration.retentionBytes = config.int64("metadata.max.retention.bytes") ?? 104_857_600
            quorumConfiguration.retentionMs = config.int64("metadata.max.retention.ms") ?? 604_800_000
            // The log first agrees with its snapshots (a start below them, an install cut short).
            let quorumDirectory = metadataDirectory + "/" + "__cluster_metadata-0"
            let raftLog = try PartitionRaftLog(log: metadataLog, localID: BrokerID(nodeId), voters: Set(voters.map { $0.id }))
            // The latest snapshot holds the image up to its offset; only the log after it is replayed.
            let empty = MetadataImage(clusterId: clusterId, controllerId: -1, brokers: brokers)
            let snapshot = try MetadataSnapshot.loadLatest(directory: quorumDirectory, onto: empty, atMost: metadataLog.logEndOffset)
            if let snapshot {
                logger.info("loaded metadata snapshot \(snapshot.id.fileName): \(snapshot.image.topics.count) topics, \(snapshot.image.registrations.count) brokers")
            }
            var snapshotSettings = MetadataSnapshotter.Settings()
            snapshotSettings.maxBytesBetween = Int(clamping: config.int64("metadata.log.max.record.bytes.between.snapshots") ?? 20_971_520)
            snapshotSettings.maxIntervalMs = config.int64("metadata.log.max.snapshot.interval.ms") ?? 3_600_000
            let snapshotter = MetadataSnapshotter(
                directory: quorumDirectory, settings: snapshotSettings, latest: snapshot?.id, logger: logger,
                durableEnd: { metadataLog.durableOffset })
            // A dynamic quorum's snapshots record its voter set, from the bootstrap snapshot on.
            let startVoters = voters.isEmpty
                ? (snapshot?.voters ?? raftLog.bootstrapVoters)
                : nil
            replicated.snapshot(with: snapshotter, base: empty, voters: startVoters)
            let driver = try QuorumDriver(
                configuration: quorumConfiguration, log: raftLog, stateDirectory: quorumDirectory, logger: logger,
                appliedFrom: Offset(snapshot?.id.endOffset ?? 0), onCommitted: { replicated.deliver($0, end: $1) },
                onSnapshotInstalled: { try replicated.install($0) }
            )
            snapshotter.whenWritten { [weak driver] id in driver?.snapshotWritten(id.epochEndOffset) }
            metadata = MetadataStore(
                replicated: replicated, clusterId: clusterId, nodeId: nodeId, brokers: brokers, image: snapshot?.image,
                localListeners: Dictionary(endpoints, uniquingKeysWith: { first, _ in first }))
            replicated.connect(quorum: driver, store: metadata)
            quorum = driver
        } else {
            metadata = try MetadataStore(
                log: PartitionLogMetadataLog(log: metadataLog), clusterId: clusterId, nodeId: nodeId, brokers: brokers,
                localListeners: Dictionary(endpoints, uniquingKeysWith: { first, _ in first })
            )
        }
        for listener in security.values {
            listener.sasl?.scramCredentials.attach { [metadata] user, mechanism in metadata.image.scramCredentials[user]?[mechanism] }
        }
        let configStore = BrokerConfigStore(config)
        // A changed keystore or truststore (a dynamic config, even set again to the same file)
        // reloads the listener's TLS context for new connections.
        let tlsFingerprint = Mutex(ListenerTLS.fingerprint(of: config))
        configStore.addObserver { [security, logger] updated in
            let fingerprint = ListenerTLS.fingerprint(of: updated)
            guard tlsFingerprint.withLock({ previous in
                defer { previous = fingerprint }
                return previous != fingerprint
            }) else { return }
            for (name, listener) in security {
                guard let reference = listener.tlsReference else { continue }
                do {
                    reference.replace(with: try ListenerTLS.context(for: name, in: updated))
                    logger.info("listener \(name): TLS keystore and truststore reloaded")
                } catch {
                    logger.error("listener \(name): keeping the current TLS context, the new settings fail: \(error)")
                }
            }
            do {
                try interNode?.reload(from: updated)
            } catch {
                logger.error("keeping the current TLS context of connections to other nodes, the new settings fail: \(error)")
            }
        }
        if quorum != nil {
            // The quorum replays the log as it starts; this broker applies its configs as they come.
            configStore.follow(dynamicConfigsOf: String(nodeId), in: metadata, logger: logger)
        } else {
            let dynamic = try metadata.dynamicBrokerConfigs(broker: String(nodeId))
            for (key, value) in dynamic.sorted(by: { $0.key < $1.key }) {
                do {
                    try configStore.update([key: value])
                } catch {
                    logger.warning("ignoring stored dynamic config \(key)=\(value): \(error)")
                }
            }
        }

        let partitions = PartitionManager(logs: logs, config: configStore, logger: logger)
        let controllerClient = quorum.map { ControllerClient(quorum: $0) }
        // In a cluster, followers fetch from leaders as the metadata assigns them.
        var replicationSettings = ReplicationSettings(config)
        if let interNode { replicationSettings.security = interNode.brokers }
        let replicas = controllerClient.map {
            ReplicaManager(settings: replicationSettings, metadata: metadata, partitions: partitions.table, controller: $0, logger: logger)
        }
        if let replicas {
            replicas.followThrottleRates(in: configStore)
            partitions.onRoleChange { replicas.roleChanged($0, $1) }
            partitions.onRemove { replicas.stopFollowing($0) }
        }
        if quorum == nil {
            try await partitions.load(image: metadata.image)
        } else {
            try await partitions.loadEveryLogOnDisk()
            // The partitions a loaded snapshot names; those committed after it open as they apply.
            let image = metadata.image
            for topic in image.topics.values { try partitions.openHosted(topic, as: nodeId, in: image) }
        }
        partitions.followConfigChanges(of: metadata)
        if let quorum {
            partitions.openHostedPartitions(as: metadata.nodeId, following: metadata)
            quorum.start()
        }

        var creator = TopicCreator(
            metadata: metadata, enabled: config.autoCreateTopics, partitions: config.numPartitions,
            replicationFactor: config.defaultReplicationFactor, onCreate: { _ in })
        if let controllerClient {
            // In a cluster each broker opens and drops the logs of the partitions it hosts as the
            // quorum commits the changes (`openHostedPartitions`), whoever made them.
            creator.controller = controllerClient
        } else {
            creator.onCreate = { topic in try Self.opening(topic, topic.partitions, in: partitions) }
            creator.onCreatePartitions = { topic, added in try Self.opening(topic, added, in: partitions) }
            creator.onDelete = { topic in partitions.remove(topic) }
        }
        // Handlers that block on disk run on threads of their own (Kafka's coordinator and
        // request handler threads), never on the cooperative pool that produce and fetch need.
        let coordinatorThreads = BlockingWorkThreads(name: "coordinator", threads: config.int("group.coordinator.threads"))
        let adminThreads = BlockingWorkThreads(name: "admin", threads: config.int("num.io.threads"))
        creator.threads = adminThreads

        let groups = GroupCoordinatorHost(
            settings: Self.groupSettings(config), metadata: metadata, partitions: partitions, logger: logger,
            controller: controllerClient
        )
        groups.loadIfPresent()
        let producerIds = ProducerIdManager { count in
            // In a cluster, blocks come from the active controller (AllocateProducerIds).
            if let controllerClient, !controllerClient.isController {
                let response = try controllerClient.sendBlocking(AllocateProducerIdsRequest(brokerId: nodeId, brokerEpoch: -1))
                guard response.errorCode == 0, response.producerIdLen > 0 else {
                    throw MetadataError(ErrorCode(rawValue: response.errorCode) ?? .unknownServerError, "the controller allocated no producer ids")
                }
                return response.producerIdStart..<(response.producerIdStart + Int64(response.producerIdLen))
            }
            return try metadata.allocateProducerIds(count: count)
        }
        // In a cluster, markers and transaction checks reach the other brokers over these links.
        let brokerLinks = quorum.map { _ in
            NodeLinks(
                clientId: RequestContext.brokerClientId(nodeId), listener: Self.interBrokerListener(config),
                security: interNode?.brokers ?? .plaintext)
        }
        let localMarkers = LocalMarkerWriter(partitions: partitions.table, groups: groups)
        let transactions = TransactionCoordinatorHost(
            settings: Self.transactionSettings(config), metadata: metadata, partitions: partitions,
            markers: brokerLinks.map { ClusterMarkerWriter(local: localMarkers, metadata: metadata, links: $0) } ?? localMarkers,
            producerIds: producerIds, logger: logger, controller: controllerClient
        )
        transactions.loadIfPresent()

        let authorizer = try AclAuthorizer.of(config)
        if let authorizer {
            authorizer.update(metadata.image.acls.values)
            metadata.addListener { records, image in
                if records.contains(where: \.changesAcls) { authorizer.update(image.acls.values) }
            }
        }
        let quotas = ClientQuotaManager(
            windowMs: Int64(config.int("quota.window.size.seconds")) * 1000, windowCount: config.int("quota.window.num"))
        quotas.update(metadata.image.clientQuotas)
        metadata.addListener { records, image in
            if records.contains(where: \.changesQuotas) { quotas.update(image.clientQuotas) }
        }
        let context = BrokerContext(config: configStore, metadata: metadata, topicCreator: creator, authorizer: authorizer)
        var router = RequestRouter()
        router.register(MetadataHandler(metadata: metadata, topicCreator: creator))
        router.register(framing: ProduceHandler(
            partitions: partitions.table,
            verifier: config.string("transaction.partition.verification.enable")?.lowercased() == "false"
                ? nil : ProduceTransactionVerifier(transactions: transactions, links: brokerLinks),
            metadata: metadata
        ))
        router.register(framing: FetchHandler(
            partitions: partitions.table, metadata: metadata,
            sessions: FetchSessionCache(capacity: max(0, config.int("max.incremental.fetch.session.cache.slots"))),
            maximumResponseBytes: max(1024, config.int("fetch.max.bytes")), quorum: quorum, replicas: replicas,
            replicaSelector: ReplicaSelector(className: config.string("replica.selector.class")) ?? .leader
        ))
        var lifecycle: BrokerLifecycleService?
        if let quorum, let controllerClient {
            let controller = ClusterController(
                quorum: quorum, metadata: metadata, sessionTimeoutMs: Int64(config.int("broker.session.timeout.ms")),
                uncleanByDefault: { configStore.current.bool("unclean.leader.election.enable") },
                leaderRebalance: config.bool("auto.leader.rebalance.enable")
                    ? (intervalMs: max(1, config.int64("leader.imbalance.check.interval.seconds") ?? 300) * 1000,
                       imbalancePercent: max(0, config.int("leader.imbalance.per.broker.percentage")))
                    : nil,
                logger: logger)
            router.register(AlterPartitionHandler(controller: controller).requiring(.clusterAction), on: adminThreads)
            router.register(BrokerRegistrationHandler(controller: controller).requiring(.clusterAction), on: adminThreads)
            router.register(BrokerHeartbeatHandler(controller: controller).requiring(.clusterAction), on: adminThreads)
            lifecycle = BrokerLifecycleService(
                quorum: quorum, controller: controller, controllerClient: controllerClient,
                isBroker: Self.processRoles(config).contains("broker"), clusterId: clusterId, listeners: Self.brokerListeners(config, advertised: advertised),
                securityProtocols: security.mapValues(\.securityProtocol),
                rack: config.string("broker.rack"), heartbeatInterval: .milliseconds(config.int("broker.heartbeat.interval.ms")),
                incarnation: partitions.incarnation, threads: adminThreads, logger: logger
            )
            router.register(AllocateProducerIdsHandler(controller: controllerClient, metadata: metadata).requiring(.clusterAction), on: adminThreads)
            router.register(VoteHandler(quorum: quorum).requiring(.clusterAction))
            router.register(BeginQuorumEpochHandler(quorum: quorum).requiring(.clusterAction))
            router.register(EndQuorumEpochHandler(quorum: quorum).requiring(.clusterAction))
            router.register(FetchSnapshotHandler(quorum: quorum).requiring(.clusterAction))
            router.register(AddRaftVoterHandler(quorum: quorum, controller: controllerClient).requiring(.alter), on: adminThreads)
            router.register(RemoveRaftVoterHandler(quorum: quorum, controller: controllerClient).requiring(.alter), on: adminThreads)
            router.register(UpdateRaftVoterHandler(quorum: quorum).requiring(.clusterAction), on: adminThreads)
            router.register(DescribeQuorumHandler(quorum: quorum, controller: controllerClient).requiring(.describe))
        }
        router.register(ListOffsetsHandler(partitions: partitions.table, metadata: metadata))
        router.register(WriteTxnMarkersHandler(
            partitions: partitions.table, groups: groups, highestCoordinatorEpoch: { transactions.highestCoordinatorEpoch }),
            on: coordinatorThreads)
        router.register(OffsetForLeaderEpochHandler(partitions: partitions.table))
        router.register(DeleteRecordsHandler(partitions: partitions.table))
        router.register(DescribeLogDirsHandler(logs: logs, lag: { [table = partitions.table] in table.partition($0)?.replicaLag ?? 0 }))
        router.registerAdminHandlers(context, on: adminThreads, controller: controllerClient)
        router.registerGroupHandlers(groups, transactions: transactions, metadata: metadata, on: coordinatorThreads)
        router.registerTransactionHandlers(
            transactions, groups: groups, metadata: metadata, producerIds: producerIds, partitions: partitions.table,
            on: coordinatorThreads)
        // Last: its answer lists every handler registered before it.
        router.register(SaslHandshakeHandler(logger: logger))
        router.register(SaslAuthenticateHandler(logger: logger))
        let routerReference = RouterReference()
        if quorum != nil {
            router.register(EnvelopeHandler(router: routerReference, authorizer: authorizer, logger: logger))
        }
        router.register(ApiVersionsHandler(otherApis: router.apiVersionEntries()))
        routerReference.set(router)

        _ = try config.connectionLimits  // a bad override stops start-up, naming the key
        let server = KafkaServer(listeners: bound, router: router, logger: logger, authorizer: authorizer, quotas: quotas) { [configStore] in
            configStore.current.connectionLimitsKeepingNumericOnes
        }
        let storage = StorageService(logs: logs, metadataLog: metadataLog, logger: logger)
        let directoryWatch = LogDirectoryFailureService(
            failures: directoryFailures, logDirs: config.logDirs, metadataDirectory: metadataDirectory, logger: logger)
        let cleanerBackoff: Duration? = config.string("log.cleaner.enable")?.lowercased() == "false"
            ? nil : .milliseconds(max(10, config.int64("log.cleaner.backoff.ms") ?? 15_000))
        let maintenance = LogMaintenanceService(
            logs: logs,
            intervals: .init(
                retentionCheck: .milliseconds(max(1, config.int64("log.retention.check.interval.ms") ?? 300_000)),
                checkpoint: .milliseconds(max(1, config.int64("log.flush.offset.checkpoint.interval.ms") ?? 60_000)),
                cleaner: cleanerBackoff,
                tick: min(.seconds(1), cleanerBackoff ?? .seconds(1)),
                producerIdExpirationMs: max(1, config.int64("producer.id.expiration.ms") ?? 86_400_000)
            ),
            logger: logger,
            directoryDeleteDelayMs: { max(0, configStore.current.int64("log.segment.delete.delay.ms") ?? 60_000) }
        )
        let groupService = GroupCoordinatorService(
            host: groups, threads: coordinatorThreads,
            offsetsRetentionCheck: .milliseconds(max(1, config.int64("offsets.retention.check.interval.ms") ?? 600_000))
        )
        let transactionService = TransactionCoordinatorService(
            host: transactions, threads: coordinatorThreads,
            abortCheck: .milliseconds(max(1, config.int64("transaction.abort.timed.out.transaction.cleanup.interval.ms") ?? 10_000)),
            expiryCheck: .milliseconds(max(1, config.int64("transaction.remove.expired.transaction.cleanup.interval.ms") ?? 3_600_000))
        )
        return Broker(
            config: configStore, metadata: metadata, server: server, boundListeners: bound.map(\.listener),
            storage: storage, maintenance: maintenance, groups: groupService, transactions: transactionService,
            directoryWatch: directoryWatch, threads: BlockingThreadsService(pools: [coordinatorThreads, adminThreads]),
            quorum: quorum.map { QuorumService(quorum: $0) }, lifecycle: lifecycle,
            replication: replicas.map {
                ReplicationService(
                    replicas: $0, partitions: partitions,
                    checkpointInterval: .milliseconds(max(1, config.int64("replica.high.watermark.checkpoint.interval.ms") ?? 5_000)),
                    logger: logger)
            }
        )
    }

    /// The group coordinator's settings from the broker's `group.*` and `offsets.*` keys.
    static func groupSettings(_ config: BrokerConfig) -> GroupCoordinatorHost.Settings {
        var settings = GroupCoordinatorHost.Settings()
        settings.group.minSessionTimeoutMs = Int32(clamping: config.int("group.min.session.timeout.ms"))
        settings.group.maxSessionTimeoutMs = Int32(clamping: config.int("group.max.session.timeout.ms"))
        settings.group.initialRebalanceDelayMs = Int64(config.int("group.initial.rebalance.delay.ms"))
        settings.group.maxSize = max(1, config.int("group.max.size"))
        settings.group.consumerSessionTimeoutMs = Int32(clamping: config.int("group.consumer.session.timeout.ms"))
        settings.group.consumerHeartbeatIntervalMs = Int32(clamping: config.int("group.consumer.heartbeat.interval.ms"))
        settings.group.offsetsRetentionMs = Int64(config.int("offsets.retention.minutes")) * 60_000
        settings.group.offsetMetadataMaxBytes = max(0, config.int("offset.metadata.max.bytes"))
        settings.group.offsetsTopicPartitions = Int32(clamping: max(1, config.int("offsets.topic.num.partitions")))
        settings.segmentBytes = max(1, config.int("offsets.topic.segment.bytes"))
        settings.replicationFactor = Int16(clamping: max(1, config.int("offsets.topic.replication.factor")))
        return settings
    }

    /// The transaction coordinator's settings from the broker's `transaction*` keys.
    static func transactionSettings(_ config: BrokerConfig) -> TransactionCoordinatorHost.Settings {
        var settings = TransactionCoordinatorHost.Settings()
        settings.transaction.maxTimeoutMs = Int32(clamping: max(1, config.int("transaction.max.timeout.ms")))
        settings.transaction.transactionalIdExpirationMs = max(1, config.int64("transactional.id.expiration.ms") ?? 604_800_000)
        settings.transaction.statePartitions = Int32(clamping: max(1, config.int("transaction.state.log.num.partitions")))
        settings.segmentBytes = max(1, config.int("transaction.state.log.segment.bytes"))
        settings.replicationFactor = Int16(clamping: max(1, config.int("transaction.state.log.replication.factor")))
        settings.minInSyncReplicas = max(1, config.int("transaction.state.log.min.isr"))
        return settings
    }

    private static func opening(
        _ topic: MetadataImage.Topic, _ added: [MetadataImage.Partition], in partitions: PartitionManager
    ) throws {
        do {
            try partitions.open(topic, partitions: added)
        } catch {
            partitions.logger.error("could not open the logs of \(topic.name): \(error)")
            throw error
        }
    }

    /// Each listener's security (its protocol, and TLS for SSL listeners).
    static func listenerSecurity(_ config: BrokerConfig) throws -> [String: ListenerSecurity] {
        var security: [String: ListenerSecurity] = [:]
        for listener in try config.listeners {
            security[listener.name] = try ListenerSecurity.of(listener: listener.name, in: config)
        }
        return security
    }

    /// In a cluster, how this node secures its connections to the others: the inter-broker
    /// listener's and the controller listener's TLS and SASL; nil for a single node.
    static func interNodeSecurity(_ config: BrokerConfig) throws -> InterNodeSecurity? {
        guard try quorumMembership(config) != nil else { return nil }
        let advertised = try config.advertisedListeners
        let brokerListener = interBrokerListener(config) ?? brokerListeners(config, advertised: advertised).first?.name ?? "PLAINTEXT"
        return try InterNodeSecurity.of(config, brokerListener: brokerListener)
    }

    /// `inter.broker.listener.name`: the listener brokers reach each other on; nil leaves each
    /// broker's first registered one.
    static func interBrokerListener(_ config: BrokerConfig) -> String? {
        config.string("inter.broker.listener.name").flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The listeners a broker registers: the advertised ones but those `controller.listener.names`
    /// reserves for the quorum (as Kafka's brokers never advertise them), unless nothing else is left.
    static func brokerListeners(_ config: BrokerConfig, advertised: [BrokerConfig.Listener]) -> [BrokerConfig.Listener] {
        let reserved = Set((config.string("controller.listener.names") ?? "").split(separator: ",").map {
            String($0.filter { $0 != " " }).uppercased()
        })
        let brokers = advertised.filter { !reserved.contains($0.name.uppercased()) }
        return brokers.isEmpty ? advertised : brokers
    }

    /// The advertised listeners with port 0 replaced by the bound port and an empty or wildcard
    /// host replaced by the loopback address.
    static func advertisedListeners(config: BrokerConfig, bound: [BrokerConfig.Listener]) throws -> [BrokerConfig.Listener] {
        let advertised = try config.advertisedListeners
        return advertised.map { listener in
            var result = listener
            if let match = bound.first(where: { $0.name == listener.name }), result.port == 0 {
                result.port = match.port
            }
            if result.host.isEmpty || result.host == "0.0.0.0" { result.host = "127.0.0.1" }
            return result
        }
    }
}

/// Owns the threads of blocking handlers: on graceful shutdown (after everything else has
/// stopped) it ends them.
struct BlockingThreadsService: Service {
    let pools: [BlockingWorkThreads]

    func run() async throws {
        try? await gracefulShutdown()
        for pool in pools { await pool.shutdown() }
    }
}

/// Owns the logs for the broker's lifetime: on graceful shutdown (after the network has stopped)
/// it flushes and closes every log and writes the checkpoints and clean-shutdown markers.
struct StorageService: Service {
    let logs: LogManager
    let metadataLog: PartitionLog
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        do {
            try logs.shutdown()
            if metadataLog.health.isOnline {
                try metadataLog.flush()
                try metadataLog.close()
            }
        } catch {
            logger.error("storage did not shut down cleanly: \(error)")
            throw error
        }
    }
}
