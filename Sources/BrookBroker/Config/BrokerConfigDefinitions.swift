/// The broker keys Brook understands, with Kafka's names and defaults.
///
/// Keys a later subsystem reads (groups, transactions, replication) are listed now so that a
/// `server.properties` written for Kafka starts without warnings about them.
enum BrokerConfigDefinitions {
    static let all: [ConfigDefinition] = server + security + log + cleaner + groups + transactions

    static let byName: [String: ConfigDefinition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The definition of `key`, also for a listener's own value of it
    /// (`listener.name.<listener>.<key>`).
    static func definition(of key: String) -> ConfigDefinition? {
        if let found = byName[key] { return found }
        guard key.hasPrefix("listener.name.") else { return nil }
        let rest = key.dropFirst("listener.name.".count)
        guard let dot = rest.firstIndex(of: ".") else { return nil }
        var key = String(rest[rest.index(after: dot)...])
        // A SASL mechanism's own value: listener.name.<listener>.<mechanism>.sasl.jaas.config.
        if let mechanism = key.firstIndex(of: "."), key[key.index(after: mechanism)...].hasPrefix("sasl.") {
            key = String(key[key.index(after: mechanism)...])
        }
        return byName[key].flatMap { $0.isListenerSpecific ? $0 : nil }
    }

    /// TLS settings (Kafka's `ssl.*` keys, each also settable per listener).
    static let security: [ConfigDefinition] = [
        .init("ssl.keystore.type", .string, "JKS", dynamic: true, "The keystore's format: PEM (Brook also reads PKCS12; not JKS)."),
        .init("ssl.keystore.location", .string, nil, dynamic: true, "The keystore file; for PEM, the private key followed by the certificate chain."),
        .init("ssl.keystore.password", .password, nil, dynamic: true, "The keystore's password (PKCS12)."),
        .init("ssl.key.password", .password, nil, dynamic: true, "The password of an encrypted private key."),
        .init("ssl.keystore.key", .password, nil, dynamic: true, "The private key in PEM, inline."),
        .init("ssl.keystore.certificate.chain", .string, nil, dynamic: true, "The certificate chain in PEM, inline."),
        .init("ssl.truststore.type", .string, "JKS", dynamic: true, "The truststore's format: PEM (not JKS)."),
        .init("ssl.truststore.location", .string, nil, dynamic: true, "The certificates clients' certificates are checked against (PEM)."),
        .init("ssl.truststore.password", .password, nil, dynamic: true, "The truststore's password (unused for PEM)."),
        .init("ssl.truststore.certificates", .string, nil, dynamic: true, "Trusted certificates in PEM, inline."),
        .init("ssl.client.auth", .string, "none", allowed: ["none", "requested", "required"], "Whether clients must present a certificate."),
        .init("ssl.enabled.protocols", .list, "TLSv1.2,TLSv1.3", "The TLS versions accepted."),
        .init("ssl.cipher.suites", .list, "", "The cipher suites accepted (IANA names); empty for the TLS library's defaults."),
        .init("ssl.principal.mapping.rules", .string, "DEFAULT", "Rules that turn a client certificate's distinguished name into a principal name."),
        .init("ssl.endpoint.identification.algorithm", .string, "https", "How a broker checks the host name of another broker it connects to over TLS."),
        .init("ssl.protocol", .string, "TLSv1.3", "The TLS protocol."),
        .init("sasl.enabled.mechanisms", .list, "GSSAPI", "The SASL mechanisms a SASL listener offers (Brook: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)."),
        .init("sasl.mechanism.inter.broker.protocol", .string, "GSSAPI", "The SASL mechanism brokers use with each other."),
        .init("sasl.mechanism.controller.protocol", .string, "GSSAPI", "The SASL mechanism nodes use with the controllers."),
        .init("sasl.jaas.config", .password, nil, "A JAAS login module entry; PLAIN's users as user_<name>=\"<password>\" (also listener.name.<listener>.plain.sasl.jaas.config)."),
        .init("sasl.oauthbearer.jwks.endpoint.url", .string, nil, "The JSON Web Key Set OAUTHBEARER tokens are checked against: an https: URL (fetched again every refresh interval, and when a token names an unknown key) or a file: URL (read again when it changes)."),
        .init("sasl.oauthbearer.jwks.endpoint.refresh.ms", .long, "3600000", minimum: 1, "How often an https: key set is fetched again."),
        .init("sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", .long, "100", minimum: 0, "The first wait before fetching an https: key set again after a failed fetch (doubling after each)."),
        .init("sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms", .long, "10000", minimum: 0, "The longest wait between two attempts to fetch an https: key set."),
        .init("sasl.oauthbearer.expected.audience", .list, "", "Audiences a token must name one of (empty: not checked)."),
        .init("sasl.oauthbearer.expected.issuer", .string, nil, "The issuer a token must name (unset: not checked)."),
        .init("sasl.oauthbearer.sub.claim.name", .string, "sub", "The claim that names the principal."),
        .init("sasl.oauthbearer.scope.claim.name", .string, "scope", "The claim that lists the token's scopes."),
        .init("sasl.oauthbearer.clock.skew.seconds", .int, "30", minimum: 0, "Seconds of clock difference allowed when checking exp and nbf."),
        .init("connections.max.reauth.ms", .long, "0", minimum: 0, "How long a SASL authentication lasts before the client must authenticate again (KIP-368); 0: for ever."),
        .init("authorizer.class.name", .string, "", "The authorizer: org.apache.kafka.metadata.authorizer.StandardAuthorizer turns on Brook's ACLs; empty allows everything."),
        .init("super.users", .string, "", "Principals allowed everything, separated by ';' (User:admin;User:broker)."),
        .init("allow.everyone.if.no.acl.found", .boolean, "false", "Whether a resource no ACL names is open to everyone."),
    ]

    static let server: [ConfigDefinition] = [
        .init("node.id", .int, "1", minimum: 0, "This node's id."),
        .init("broker.id", .int, "-1", "Alias of node.id kept for old configs."),
        .init("process.roles", .list, "broker,controller", "The roles of this node."),
        .init("cluster.id", .string, nil, "The cluster id; generated and stored in meta.properties when absent."),
        .init("listeners", .list, "PLAINTEXT://127.0.0.1:9092", "Addresses to listen on."),
        .init("advertised.listeners", .list, nil, "Addresses clients are told to use; defaults to listeners."),
        .init("listener.security.protocol.map", .list, "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
              "Listener name to security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)."),
        .init("controller.listener.names", .list, nil, "Listeners used by the controller."),
        .init("inter.broker.listener.name", .string, nil, "Listener used between brokers."),
        .init("controller.quorum.voters", .list, nil, "Static controller quorum."),
        .init("controller.quorum.bootstrap.servers", .list, nil, "Controller bootstrap servers."),
        .init("controller.quorum.election.timeout.ms", .int, "1000", minimum: 1, "A voter without a leader stands for election after this (plus a random part of it)."),
        .init("controller.quorum.fetch.timeout.ms", .int, "2000", minimum: 1, "A follower that has not heard from the quorum's leader for this long looks for a new one."),
        .init("controller.quorum.election.backoff.max.ms", .int, "1000", minimum: 1, "The longest wait before a lost election is retried."),
        .init("controller.quorum.request.timeout.ms", .int, "2000", minimum: 1, "An unanswered quorum request is sent again after this."),
        .init("metadata.log.max.record.bytes.between.snapshots", .long, "20971520", minimum: 1,
              "A metadata snapshot is taken once this many bytes of records were committed since the last."),
        .init("metadata.log.max.snapshot.interval.ms", .long, "3600000", minimum: 0,
              "A metadata snapshot is taken this long after the last when anything was committed since (0: never by time)."),
        .init("metadata.max.retention.bytes", .long, "104857600", minimum: -1,
              "Once the metadata log exceeds this size, a new snapshot replaces the log before it (-1: no size limit)."),
        .init("metadata.max.retention.ms", .long, "604800000", minimum: -1,
              "Once the metadata log's oldest records are this old, a new snapshot replaces the log before it (-1: no time limit)."),
        .init("metadata.log.segment.bytes", .int, "1073741824", minimum: 1024,
              "The size of a metadata log segment; the log is removed below a snapshot a whole segment at a time."),
        .init("broker.rack", .string, nil, "The rack of this broker, for rack-aware partition placement."),
        .init("broker.session.timeout.ms", .int, "9000", minimum: 1, "The controller fences a broker whose heartbeats stop for this long."),
        .init("broker.heartbeat.interval.ms", .int, "2000", minimum: 1, "How often a broker heartbeats to the controller."),
        .init("num.network.threads", .int, "3", minimum: 1, dynamic: true, "Network threads (Brook sizes its event loops to the cores)."),
        .init("num.io.threads", .int, "8", minimum: 1, "Threads serving requests that change metadata (topics, partitions, configs); produce and fetch run on the event loops and tasks."),
        .init("socket.send.buffer.bytes", .int, "102400", "SO_SNDBUF; -1 for the OS default."),
        .init("socket.receive.buffer.bytes", .int, "102400", "SO_RCVBUF; -1 for the OS default."),
        .init("socket.request.max.bytes", .int, "104857600", minimum: 1, "The largest request accepted."),
        .init("connections.max.idle.ms", .long, "600000", "Idle connections are closed after this."),
        .init("max.connections", .int, "2147483647", minimum: 0, dynamic: true, "Connections the broker accepts; at the limit it stops accepting until one closes."),
        .init("max.connections.per.ip", .int, "2147483647", minimum: 0, dynamic: true, "Connections accepted from one address; more are closed at once."),
        .init("max.connections.per.ip.overrides", .string, "", dynamic: true, "Per-address limits, e.g. 127.0.0.1:200,10.0.0.7:5."),
        .init("max.connection.creation.rate", .int, "2147483647", minimum: 0, dynamic: true, "New connections per second the broker accepts; more wait (KIP-612)."),
        .init("queued.max.request.bytes", .long, "-1", dynamic: false, "Bytes of requests read and not yet answered before the broker stops reading; -1 for no limit."),
        .init("request.timeout.ms", .int, "30000", minimum: 0, "Request timeout."),
        .init("auto.create.topics.enable", .boolean, "true", "Create topics on first use."),
        .init("delete.topic.enable", .boolean, "true", "Allow DeleteTopics."),
        .init("num.partitions", .int, "1", minimum: 1, "Partitions of auto-created topics."),
        .init("default.replication.factor", .int, "1", minimum: 1, "Replication factor of auto-created topics."),
        .init("min.insync.replicas", .int, "1", minimum: 1, dynamic: true, "Replicas that must acknowledge acks=all."),
        .init("unclean.leader.election.enable", .boolean, "false", dynamic: true, "Allow out-of-sync leaders."),
        .init("auto.leader.rebalance.enable", .boolean, "true", "Give partitions back to their preferred leaders when too many are led elsewhere."),
        .init("leader.imbalance.check.interval.seconds", .long, "300", minimum: 1, "How often the controller checks the leaders' balance."),
        .init("leader.imbalance.per.broker.percentage", .int, "10", minimum: 0, "The share of a broker's preferred partitions led elsewhere that triggers a rebalance."),
        .init("message.max.bytes", .int, "1048588", minimum: 0, dynamic: true, "The largest record batch accepted."),
        .init("replica.fetch.max.bytes", .int, "1048576", minimum: 0, "The most a follower fetches of one partition at a time."),
        .init("replica.fetch.response.max.bytes", .int, "10485760", minimum: 0, "The most a follower fetches at a time."),
        .init("replica.fetch.wait.max.ms", .int, "500", minimum: 0, "How long a leader holds a follower's fetch that finds nothing new."),
        .init("replica.fetch.min.bytes", .int, "1", minimum: 1, "How much a follower's fetch waits for."),
        .init("replica.fetch.backoff.ms", .int, "1000", minimum: 0, "The pause after a follower's fetch fails."),
        .init("replica.socket.timeout.ms", .int, "30000", minimum: 1, "A follower's fetch unanswered this long is abandoned."),
        .init("replica.high.watermark.checkpoint.interval.ms", .long, "5000", minimum: 1, "How often the partitions' high watermarks are written to replication-offset-checkpoint."),
        .init("leader.replication.throttled.rate", .long, "9223372036854775807", minimum: 0, dynamic: true,
              "Bytes per second a leader sends the throttled replicas of leader.replication.throttled.replicas that are out of sync."),
        .init("follower.replication.throttled.rate", .long, "9223372036854775807", minimum: 0, dynamic: true,
              "Bytes per second a follower fetches for its throttled replicas of follower.replication.throttled.replicas while out of sync."),
        .init("quota.window.num", .int, "11", minimum: 2, "Sample windows over which client quotas measure rates."),
        .init("quota.window.size.seconds", .int, "1", minimum: 1, "The length of one client quota sample window."),
        .init("replication.quota.window.num", .int, "11", minimum: 1, "Windows over which replication throttles measure the rate."),
        .init("replication.quota.window.size.seconds", .int, "1", minimum: 1, "The length of one replication throttle window."),
        .init("replica.selector.class", .string, nil, allowed: ReplicaSelector.classNames,
              "Where leaders send consumers that name their rack to read (KIP-392): RackAwareReplicaSelector sends them to an in-sync replica in their rack."),
        .init("replica.lag.time.max.ms", .long, "30000", minimum: 1, "A follower that has not caught up with its leader for this long leaves the ISR."),
        .init("fetch.max.bytes", .int, "57671680", minimum: 1024, "The largest fetch response."),
        .init("compression.type", .string, "producer", allowed: ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"], dynamic: true, "Compression of stored batches."),
        .init("metadata.log.dir", .string, nil, "Where the metadata log lives; defaults to the first log dir."),
        .init("max.incremental.fetch.session.cache.slots", .int, "1000", minimum: 0, "Fetch sessions kept."),
    ]

    static let log: [ConfigDefinition] = [
        .init("log.dirs", .list, nil, "Data directories."),
        .init("log.dir", .string, "./brook-data", "Data directory when log.dirs is unset."),
        .init("log.segment.bytes", .int, "1073741824", minimum: 14, dynamic: true, "Segment size."),
        .init("log.roll.ms", .long, nil, dynamic: true, "Roll segments after this long (overrides log.roll.hours)."),
        .init("log.roll.hours", .int, "168", minimum: 1, "Roll segments after this long."),
        .init("log.roll.jitter.ms", .long, nil, dynamic: true, "Jitter subtracted from the roll time."),
        .init("log.roll.jitter.hours", .int, "0", minimum: 0, "Jitter subtracted from the roll time."),
        .init("log.retention.ms", .long, nil, dynamic: true, "Retention time (overrides minutes and hours)."),
        .init("log.retention.minutes", .int, nil, "Retention time (overrides hours)."),
        .init("log.retention.hours", .int, "168", "Retention time."),
        .init("log.retention.bytes", .long, "-1", dynamic: true, "Retention size per partition."),
        .init("log.retention.check.interval.ms", .long, "300000", minimum: 1, "How often retention runs."),
        .init("log.index.size.max.bytes", .int, "10485760", minimum: 4, dynamic: true, "Index file size."),
        .init("log.index.interval.bytes", .int, "4096", minimum: 0, dynamic: true, "Bytes between index entries."),
        .init("log.flush.interval.messages", .long, "9223372036854775807", minimum: 1, dynamic: true, "fsync after this many messages."),
        .init("log.flush.interval.ms", .long, nil, dynamic: true, "fsync after this long."),
        .init("log.flush.scheduler.interval.ms", .long, "9223372036854775807", "How often the flusher checks."),
        .init("log.flush.offset.checkpoint.interval.ms", .int, "60000", minimum: 0, "Recovery point checkpoint interval."),
        .init("log.flush.start.offset.checkpoint.interval.ms", .int, "60000", minimum: 0, "Log start offset checkpoint interval."),
        .init("log.segment.delete.delay.ms", .long, "60000", minimum: 0, dynamic: true, "Delay before deleting a segment file."),
        .init("log.cleanup.policy", .list, "delete", dynamic: true, "delete, compact or both."),
        .init("log.message.timestamp.type", .string, "CreateTime", allowed: ["CreateTime", "LogAppendTime"], dynamic: true, "Timestamp type."),
        .init("log.message.timestamp.before.max.ms", .long, "9223372036854775807", minimum: 0, dynamic: true, "How far in the past a timestamp may be."),
        .init("log.message.timestamp.after.max.ms", .long, "3600000", minimum: 0, dynamic: true, "How far in the future a timestamp may be."),
        .init("log.preallocate", .boolean, "false", dynamic: true, "Preallocate segment files."),
        .init("log.write.caching", .boolean, "false", dynamic: true, "Topics' default write.caching: acks=all answered from the page cache (true) or after an fsync on a partition without other in-sync replicas (false)."),
        .init("num.recovery.threads.per.data.dir", .int, "2", minimum: 1, dynamic: true, "Recovery parallelism per directory."),
    ]

    static let cleaner: [ConfigDefinition] = [
        .init("log.cleaner.enable", .boolean, "true", "Run the log cleaner."),
        .init("log.cleaner.threads", .int, "1", minimum: 0, dynamic: true, "Cleaner threads."),
        .init("log.cleaner.dedupe.buffer.size", .long, "134217728", dynamic: true, "Offset map memory."),
        .init("log.cleaner.io.buffer.size", .int, "524288", minimum: 0, dynamic: true, "Cleaner I/O buffer."),
        .init("log.cleaner.io.buffer.load.factor", .double, "0.9", dynamic: true, "Offset map load factor."),
        .init("log.cleaner.backoff.ms", .long, "15000", minimum: 0, dynamic: true, "Sleep when nothing is cleanable."),
        .init("log.cleaner.min.cleanable.ratio", .double, "0.5", minimum: 0, dynamic: true, "Dirty ratio that triggers cleaning."),
        .init("log.cleaner.delete.retention.ms", .long, "86400000", minimum: 0, dynamic: true, "How long tombstones are kept."),
        .init("log.cleaner.min.compaction.lag.ms", .long, "0", minimum: 0, dynamic: true, "Minimum age before compaction."),
        .init("log.cleaner.max.compaction.lag.ms", .long, "9223372036854775807", minimum: 1, dynamic: true, "Maximum age before compaction."),
    ]

    static let groups: [ConfigDefinition] = [
        .init("group.initial.rebalance.delay.ms", .int, "3000", "Delay of a new group's first rebalance."),
        .init("group.min.session.timeout.ms", .int, "6000", "Smallest session timeout."),
        .init("group.max.session.timeout.ms", .int, "1800000", "Largest session timeout."),
        .init("group.max.size", .int, "2147483647", minimum: 1, "Members per group."),
        .init("group.coordinator.rebalance.protocols", .list, "classic,consumer", "Enabled group protocols."),
        .init("group.consumer.session.timeout.ms", .int, "45000", "KIP-848 session timeout."),
        .init("group.consumer.heartbeat.interval.ms", .int, "5000", "KIP-848 heartbeat interval."),
        .init("group.coordinator.threads", .int, "4", minimum: 1, "Threads serving the group and transaction coordinators' requests and timers."),
        .init("offsets.topic.num.partitions", .int, "50", minimum: 1, "Partitions of __consumer_offsets."),
        .init("offsets.topic.replication.factor", .int, "3", minimum: 1, "Replication of __consumer_offsets."),
        .init("offsets.topic.segment.bytes", .int, "104857600", minimum: 1, "Segment size of __consumer_offsets."),
        .init("offsets.retention.minutes", .int, "10080", minimum: 1, "Retention of committed offsets."),
        .init("offsets.retention.check.interval.ms", .long, "600000", minimum: 1, "Offset expiry check interval."),
        .init("offsets.commit.timeout.ms", .int, "5000", minimum: 1, "Offset commit timeout."),
        .init("offsets.load.buffer.size", .int, "5242880", minimum: 1, "Load buffer."),
        .init("offset.metadata.max.bytes", .int, "4096", "Largest commit metadata."),
    ]

    static let transactions: [ConfigDefinition] = [
        .init("transaction.state.log.num.partitions", .int, "50", minimum: 1, "Partitions of __transaction_state."),
        .init("transaction.state.log.replication.factor", .int, "3", minimum: 1, "Replication of __transaction_state."),
        .init("transaction.state.log.min.isr", .int, "2", minimum: 1, "Min ISR of __transaction_state."),
        .init("transaction.state.log.segment.bytes", .int, "104857600", minimum: 1, "Segment size of __transaction_state."),
        .init("transaction.max.timeout.ms", .int, "900000", minimum: 1, "Largest transaction timeout."),
        .init("transactional.id.expiration.ms", .int, "604800000", minimum: 1, "Expiry of idle transactional ids."),
        .init("producer.id.expiration.ms", .int, "86400000", minimum: 1, "Expiry of idle producer ids."),
        .init("transaction.abort.timed.out.transaction.cleanup.interval.ms", .int, "10000", minimum: 1, "Timeout check interval."),
        .init("transaction.partition.verification.enable", .boolean, "true", "Check with the coordinator before a transaction's first write to a partition (KIP-890)."),
        .init("transaction.remove.expired.transaction.cleanup.interval.ms", .int, "3600000", minimum: 1, "Transactional id expiry check interval."),
    ]
}
