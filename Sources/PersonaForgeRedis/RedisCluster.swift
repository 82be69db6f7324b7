public import Logging

/// The Redis Cluster hash slot of a key: CRC16-CCITT (XMODEM) of the key, or of its hash
/// tag, modulo 16384, as in the Redis Cluster specification.
///
/// A hash tag is the text between the first `{` and the first `}` after it, when that
/// text is not empty: `{user1000}.following` and `{user1000}.followers` share a slot.
public enum RedisClusterSlot {
    /// The number of hash slots of a Redis Cluster.
    public static let count = 16384

    /// The slot (0..<16384) that owns `key`.
    public static func of(_ key: [UInt8]) -> Int {
        Int(crc16(hashedPart(of: key)) & UInt16(count - 1))
    }

    /// The slot that owns a UTF-8 `key`.
    public static func of(_ key: String) -> Int {
        of(Array(key.utf8))
    }

    /// CRC16-CCITT, XMODEM variant (polynomial 0x1021, initial value 0): the checksum
    /// Redis Cluster hashes keys with. `crc16("123456789") == 0x31C3`.
    public static func crc16<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    /// The part of `key` that is hashed: the hash tag if there is a non-empty one, else the key.
    static func hashedPart(of key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
              close > open + 1 else {
            return key[...]
        }
        return key[(open + 1)..<close]
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}

/// A client for a Redis Cluster, built on one ``RedisConnection`` per master node.
///
/// On first use it asks the seed for the slot map (`CLUSTER SLOTS`); later refreshes ask
/// any known master, then the seed. A seed that answers "cluster support disabled" is a
/// standalone server: it owns every slot, so the same code runs against a plain
/// redis-server (there, the seed's database is used; a cluster has only database 0).
///
/// ``pipeline(_:)`` follows `MOVED` (refreshing the slot map) and `ASK` (sending
/// `ASKING` first) redirects, up to ``maximumRedirects`` per command. A node that
/// cannot be connected to makes the client refresh the map once from another node and
/// retry; a connection that breaks after the commands were written is not retried,
/// because they may have executed (as with ``RedisConnection``).
public actor RedisCluster {
    /// How many `MOVED`/`ASK` redirects one command may follow before ``pipeline(_:)`` throws.
    public static let maximumRedirects = 5

    /// The configuration the client was created with; nodes get a copy with their own host and port.
    public let seed: RedisConfiguration
    let logger: Logger
    private var slotMap: SlotMap?
    private var connections: [NodeAddress: RedisConnection] = [:]

    /// Creates a client; it connects and discovers the slot map on first use.
    public init(seed: RedisConfiguration, logger: Logger = Logger(label: "personaforge.redis.cluster")) {
        self.seed = seed
        self.logger = logger
    }

    /// Sends each command to the master that owns its `slotKey`'s slot: one
    /// ``RedisConnection/pipeline(_:timeout:)`` per node, all nodes concurrently.
    ///
    /// Replies come back in the order of `commands`. Error replies other than redirects
    /// are returned in place, as ``RedisReply/error(_:)``.
    /// - Parameter commands: each command with the key that decides its slot (for a
    ///   multi-key command, keys that share a hash tag).
    /// - Throws: ``RedisError`` when no node answers `CLUSTER SLOTS`, when the owner of a
    ///   slot cannot be reached even after refreshing the map, when a connection breaks
    ///   mid-pipeline (some commands may have executed), or when a command is redirected
    ///   more than ``maximumRedirects`` times.
    public func pipeline(_ commands: [(slotKey: [UInt8], command: RedisCommand)]) async throws(RedisError) -> [RedisReply] {
        if commands.isEmpty { return [] }
        var map = try await currentSlotMap()
        let slots = commands.map { RedisClusterSlot.of($0.slotKey) }
        var replies = [RedisReply?](repeating: nil, count: commands.count)
        var redirects = [Int](repeating: 0, count: commands.count)
        var retriedAfterUnreachable = false
        var pending: [(index: Int, route: Route)] = commands.indices.map { ($0, .owner) }

        while !pending.isEmpty {
            // Group by node, keeping input order within each node.
            var batches: [NodeAddress: [(index: Int, asking: Bool)]] = [:]
            for (index, route) in pending {
                switch route {
                case .owner: batches[map.owner(of: slots[index]), default: []].append((index, false))
                case .moved(let node): batches[node, default: []].append((index, false))
                case .ask(let node): batches[node, default: []].append((index, true))
                }
            }
            let outcomes = await send(batches.mapValues { batch in
                batch.map { (command: commands[$0.index].command, asking: $0.asking) }
            })

            pending = []
            var refreshNeeded = false
            var unreachable: [(node: NodeAddress, error: RedisError)] = []
            for (node, outcome) in outcomes {
                let batch = batches[node]!
                switch outcome {
                case .notSent(let error):
                    unreachable.append((node, error))
                    pending += batch.map { ($0.index, Route.owner) }
                case .broken(let error):
                    throw error
                case .replies(let nodeReplies):
                    for (position, reply) in nodeReplies.enumerated() {
                        let index = batch[position].index
                        guard case .error(let message) = reply, let redirect = Redirect(message, from: node) else {
                            replies[index] = reply
                            continue
                        }
                        redirects[index] += 1
                        if redirects[index] > Self.maximumRedirects {
                            throw RedisError(.server, "\(message) (\(commands[index].command.name) for slot \(slots[index]) was redirected \(redirects[index]) times without reaching the slot's owner: the cluster is resharding or its slot map is inconsistent; retry later, or check it with `redis-cli --cluster check \(node)`)")
                        }
                        switch redirect {
                        case .moved(let target):
                            refreshNeeded = true
                            pending.append((index, .moved(target)))
                        case .ask(let target):
                            pending.append((index, .ask(target)))
                        }
                    }
                }
            }

            if let first = unreachable.first {
                let (node, error) = first
                if retriedAfterUnreachable {
                    throw RedisError(error.code, "Redis Cluster node \(node) is unreachable even after refreshing the slot map from another node: \(error.message)")
                }
                retriedAfterUnreachable = true
                logger.warning("Redis Cluster node unreachable; refreshing the slot map", metadata: ["node": "\(node)", "reason": "\(error.message)"])
                map = try await refreshSlotMap(avoiding: Set(unreachable.map(\.node)))
            } else if refreshNeeded {
                map = try await refreshSlotMap(avoiding: [])
            }
        }
        return replies.map { $0! }
    }

    /// The configurations of the masters that own slots (for per-node commands such as
    /// `INFO memory` or `DBSIZE`), sorted by host and port.
    public func nodeConfigurations() async throws(RedisError) -> [RedisConfiguration] {
        let map = try await currentSlotMap()
        return map.masters.map(configuration(for:))
    }

    /// Closes every node connection; the next command reconnects.
    public func close() async {
        for connection in connections.values {
            await connection.close()
        }
        connections = [:]
    }

    // MARK: - Sending

    private enum Route {
        case owner
        case moved(NodeAddress)
        case ask(NodeAddress)
    }

    private enum Outcome: Sendable {
        /// One reply per command, `ASKING` replies removed.
        case replies([RedisReply])
        /// The node could not be connected to: nothing was sent.
        case notSent(RedisError)
        /// The connection broke after the commands were written: some may have executed.
        case broken(RedisError)
    }

    private func send(_ batches: [NodeAddress: [(command: RedisCommand, asking: Bool)]]) async -> [NodeAddress: Outcome] {
        let work = batches.map { node, batch in (node, connection(to: node), batch) }
        return await withTaskGroup(of: (NodeAddress, Outcome).self) { group in
            for (node, connection, batch) in work {
                group.addTask {
                    do throws(RedisError) {
                        try await connection.connect()
                    } catch {
                        return (node, .notSent(error))
                    }
                    var sent: [RedisCommand] = []
                    sent.reserveCapacity(batch.count)
                    for (command, asking) in batch {
                        if asking { sent.append(RedisCommand("ASKING")) }
                        sent.append(command)
                    }
                    let replies: [RedisReply]
                    do throws(RedisError) {
                        replies = try await connection.pipeline(sent)
                    } catch {
                        return (node, .broken(error))
                    }
                    // Drop the reply to each ASKING, which precedes its command's reply.
                    var result: [RedisReply] = []
                    result.reserveCapacity(batch.count)
                    var position = 0
                    for (_, asking) in batch {
                        if asking { position += 1 }
                        result.append(replies[position])
                        position += 1
                    }
                    return (node, .replies(result))
                }
            }
            var outcomes: [NodeAddress: Outcome] = [:]
            for await (node, outcome) in group {
                outcomes[node] = outcome
            }
            return outcomes
        }
    }

    private func connection(to node: NodeAddress) -> RedisConnection {
        if let connection = connections[node] { return connection }
        let connection = RedisConnection(configuration: configuration(for: node), logger: logger)
        connections[node] = connection
        return connection
    }

    private func configuration(for node: NodeAddress) -> RedisConfiguration {
        var configuration = seed
        configuration.host = node.host
        configuration.port = node.port
        // A cluster has only database 0; a standalone server uses the seed's database.
        if slotMap?.isStandalone != true { configuration.database = 0 }
        return configuration
    }

    // MARK: - Slot map

    private func currentSlotMap() async throws(RedisError) -> SlotMap {
        if let slotMap { return slotMap }
        return try await refreshSlotMap(avoiding: [])
    }

    /// Asks the known masters (those in `avoiding` last), then the seed, for `CLUSTER SLOTS`.
    private func refreshSlotMap(avoiding: Set<NodeAddress>) async throws(RedisError) -> SlotMap {
        let seedNode = NodeAddress(host: seed.host, port: seed.port)
        let known = slotMap?.masters ?? []
        var candidates = known.filter { !avoiding.contains($0) } + [seedNode] + known.filter { avoiding.contains($0) }
        var seen = Set<NodeAddress>()
        candidates = candidates.filter { seen.insert($0).inserted }

        var failures: [String] = []
        for node in candidates {
            let reply: RedisReply
            do throws(RedisError) {
                reply = try await connection(to: node).send("CLUSTER", "SLOTS")
            } catch where error.code == .server && error.message.contains("cluster support disabled") {
                return try await becomeStandalone(node)
            } catch {
                failures.append("\(node): \(error.message)")
                continue
            }
            guard let map = SlotMap(clusterSlots: reply, answeredBy: node) else {
                failures.append("\(node): CLUSTER SLOTS answered with an unexpected reply shape")
                continue
            }
            if seed.database != 0 {
                throw RedisError(.invalidURL, "a Redis Cluster has only database 0, but the seed URL \(seed.redactedDescription) selects database \(seed.database): end the URL with /0")
            }
            if slotMap?.masters != map.masters {
                logger.debug("Redis Cluster slot map", metadata: ["masters": "\(map.masters.map(\.description).joined(separator: ","))", "from": "\(node)"])
            }
            slotMap = map
            return map
        }
        throw RedisError(.unreachable, "cannot get the Redis Cluster slot map: no node answered CLUSTER SLOTS (\(failures.joined(separator: "; ")))")
    }

    /// The seed is a plain redis-server: it owns every slot, with the seed's database.
    private func becomeStandalone(_ node: NodeAddress) async throws(RedisError) -> SlotMap {
        if slotMap?.isStandalone != true {
            logger.debug("Redis at the seed is standalone (cluster support disabled): it serves every slot", metadata: ["redis": "\(seed.redactedDescription)"])
        }
        let map = SlotMap(standalone: node)
        slotMap = map
        // Discovery connected with database 0; reconnect with the seed's database.
        if let existing = connections[node], existing.configuration != configuration(for: node) {
            await existing.close()
            connections[node] = nil
        }
        return map
    }
}

/// A node's address, `host:port`.
struct NodeAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    var host: String
    var port: Int

    /// Parses `host:port` (the last colon separates the port, for IPv6 hosts); an empty
    /// host means the host of the node that sent the address.
    init?(_ text: Substring, defaultHost: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        let host = text[..<colon]
        self.init(host: host.isEmpty ? defaultHost : String(host), port: port)
    }

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    static func < (lhs: NodeAddress, rhs: NodeAddress) -> Bool {
        (lhs.host, lhs.port) < (rhs.host, rhs.port)
    }
}

/// A `MOVED` or `ASK` error reply: `MOVED 3999 127.0.0.1:6381`.
enum Redirect: Equatable {
    case moved(NodeAddress)
    case ask(NodeAddress)

    init?(_ message: String, from node: NodeAddress) {
        let words = message.split(separator: " ")
        guard words.count == 3, Int(words[1]) != nil,
              let target = NodeAddress(words[2], defaultHost: node.host) else { return nil }
        switch words[0] {
        case "MOVED": self = .moved(target)
        case "ASK": self = .ask(target)
        default: return nil
        }
    }
}

/// Which master owns each of the 16384 slots.
struct SlotMap: Sendable {
    private var owners: [NodeAddress?]
    /// The masters that own at least one slot, sorted.
    let masters: [NodeAddress]
    let isStandalone: Bool
    /// The node that sent the map.
    private let source: NodeAddress

    init(standalone node: NodeAddress) {
        owners = Array(repeating: node, count: RedisClusterSlot.count)
        masters = [node]
        isStandalone = true
        source = node
    }

    /// Parses a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, ...], replicas...], ...]`.
    /// An empty host means the node that answered; nil for a reply of another shape.
    init?(clusterSlots reply: RedisReply, answeredBy node: NodeAddress) {
        guard let ranges = reply.array else { return nil }
        var owners = [NodeAddress?](repeating: nil, count: RedisClusterSlot.count)
        var masters = Set<NodeAddress>()
        for range in ranges {
            guard let fields = range.array, fields.count >= 3,
                  let start = fields[0].integer, let end = fields[1].integer,
                  0 <= start, start <= end, end < RedisClusterSlot.count,
                  let master = fields[2].array, master.count >= 2,
                  let host = master[0].string, let port = master[1].integer else { return nil }
            let owner = NodeAddress(host: host.isEmpty || host == "?" ? node.host : host, port: Int(port))
            for slot in Int(start)...Int(end) { owners[slot] = owner }
            masters.insert(owner)
        }
        self.owners = owners
        self.masters = masters.sorted()
        isStandalone = false
        source = node
    }

    /// The owner of `slot`; for a slot no master owns, any master (which answers with a
    /// redirect or `CLUSTERDOWN`), or the node that sent the map.
    func owner(of slot: Int) -> NodeAddress {
        owners[slot] ?? masters.first ?? source
    }
}
