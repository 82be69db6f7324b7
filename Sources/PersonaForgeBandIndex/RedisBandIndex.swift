public import PersonaForgeCore
public import PersonaForgeRedis

/// The LSH band index of the dedup scopes in Redis or Redis Cluster, partitioned by
/// bucket: no lock, no cross-node step, any number of reducers at once.
///
/// **Layout.** A scope's buckets are spread over `partitions` hashes,
/// `pf:<namespace>:lsh:<scope>:{<scope>.<p>}` (the braces are the cluster hash tag,
/// so partition `p` lives on one node and different partitions on different
/// nodes). A field is the band (2 bytes) and the bucket (8 bytes), little-endian;
/// its value is the ids of the records holding that bucket, 8 little-endian bytes
/// each, in the order they were added.
///
/// **The one operation**, ``addAndProbe(scopeID:_:expected:)``: for every entry, add its id to its
/// bucket unless it is there already, and return the other ids of that bucket. It
/// is one Lua script per partition touched, so it is atomic per bucket: of two
/// records added to one bucket at the same time, whichever is added second sees the
/// first — the property the ordered rule needs (``OrderedDedup``: every candidate
/// pair is seen by at least one of its two records). It is idempotent: adding a
/// record again (a redelivered batch) changes nothing and returns the same holders
/// and any added since.
///
/// The index holds no signatures and no order: callers fetch the candidates'
/// signatures (PostgreSQL `record_signatures`) to confirm and order them.
///
/// **Lost writes.** Each call reports the partitions it created, and the caller records
/// them in PostgreSQL (`band_index_partitions`). A later call names those it expects,
/// and the script of an expected partition that is missing refuses before it adds
/// anything: a Redis that restarted empty, or a failover to a replica that had not
/// received them, is found instead of silently keeping near duplicates. (Lost
/// entries inside a partition that survives, e.g. the last second of `appendfsync
/// everysec`, are not found this way.)
public struct RedisBandIndex: SharedBandIndex {
    public let cluster: RedisCluster
    public let namespace: String
    public let partitions: Int
    /// The most fields one script call handles (longer runs of one partition are split).
    public var maximumFieldsPerCall = 4096

    /// - Parameter partitions: hashes per scope; give a few per node of the cluster
    ///   times 16 or more, so partitions spread evenly (default 256).
    public init(cluster: RedisCluster, namespace: String, partitions: Int = 256) {
        precondition(partitions > 0, "a band index needs at least one partition")
        self.cluster = cluster
        self.namespace = namespace
        self.partitions = partitions
    }

    /// The Redis key of partition `p`.
    public func key(scopeID: Int, partition p: Int) -> String {
        "pf:\(namespace):lsh:\(scopeID):{\(scopeID).\(p)}"
    }

    /// The partition of a bucket of a band: buckets are avalanche hashes, so their
    /// low bits are uniform; the band is mixed in so that one record's bands land
    /// on different partitions.
    public func partition(band: Int, bucket: UInt64) -> Int {
        let mixed = (bucket ^ (UInt64(truncatingIfNeeded: band) &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        return Int((mixed >> 32) % UInt64(partitions))
    }

    /// Adds every entry and returns, for each (in input order), the ids its bucket
    /// holds besides the entry's own, and the partitions this call created. Throws
    /// ``BandIndexLostError`` when a partition of `expected` is missing.
    public func addAndProbe(scopeID: Int, _ entries: [BandEntry], expected: Set<Int>) async throws -> BandProbe {
        if entries.isEmpty { return BandProbe(holders: [], created: []) }
        var byPartition: [Int: [Int]] = [:]
        for (index, entry) in entries.enumerated() {
            guard (0...Int(UInt16.max)).contains(entry.band) else {
                throw RedisError(.protocolError, "band \(entry.band) does not fit the band index's 2-byte band field")
            }
            byPartition[partition(band: entry.band, bucket: entry.bucket), default: []].append(index)
        }
        var calls: [(slotKey: [UInt8], command: RedisCommand)] = []
        var callEntries: [[Int]] = []
        var callPartitions: [Int] = []
        for (p, indices) in byPartition.sorted(by: { $0.key < $1.key }) {
            let key = Array(key(scopeID: scopeID, partition: p).utf8)
            var start = 0
            while start < indices.count {
                let chunk = Array(indices[start..<min(indices.count, start + maximumFieldsPerCall)])
                start += chunk.count
                var arguments: [any RedisArgument] = ["EVAL", Self.script, "1", key, expected.contains(p) ? "1" : "0"]
                arguments.reserveCapacity(5 + 2 * chunk.count)
                for index in chunk {
                    let entry = entries[index]
                    arguments.append(Self.field(band: entry.band, bucket: entry.bucket))
                    arguments.append(Self.bytes(of: entry.id))
                }
                calls.append((key, RedisCommand(arguments)))
                callEntries.append(chunk)
                callPartitions.append(p)
            }
        }
        let replies = try await cluster.pipeline(calls)
        var result = [[Int64]](repeating: [], count: entries.count)
        var created = Set<Int>()
        var lost = Set<Int>()
        for ((reply, indices), partition) in zip(zip(replies, callEntries), callPartitions) {
            if case .error(let message) = reply, message.hasPrefix("PFLOST") {
                lost.insert(partition)
                continue
            }
            guard case .array(let answer) = reply, answer.count == indices.count + 1, let wasCreated = answer.first?.integer else {
                throw RedisError(.protocolError, "band index script on \(scopeID) answered \(reply) for \(indices.count) fields")
            }
            if wasCreated == 1 { created.insert(partition) }
            for (holder, index) in zip(answer.dropFirst(), indices) {
                guard let bytes = holder.bytes ?? (holder.isNull ? [] : nil), bytes.count % 8 == 0 else {
                    throw RedisError(.protocolError, "band index bucket value of \(holder.bytes?.count ?? -1) bytes is not a list of 8-byte ids")
                }
                var ids: [Int64] = []
                ids.reserveCapacity(bytes.count / 8)
                var offset = 0
                while offset < bytes.count {
                    var value: UInt64 = 0
                    for shift in 0..<8 { value |= UInt64(bytes[offset + shift]) << (8 * shift) }
                    ids.append(Int64(bitPattern: value))
                    offset += 8
                }
                result[index] = ids
            }
        }
        if !lost.isEmpty { throw BandIndexLostError(scopeID: scopeID, partitions: Array(lost)) }
        return BandProbe(holders: result, created: created)
    }

    static func field(band: Int, bucket: UInt64) -> [UInt8] {
        var field = [UInt8](repeating: 0, count: 10)
        field[0] = UInt8(truncatingIfNeeded: band)
        field[1] = UInt8(truncatingIfNeeded: band >> 8)
        for shift in 0..<8 { field[2 + shift] = UInt8(truncatingIfNeeded: bucket >> (8 * shift)) }
        return field
    }

    static func bytes(of id: Int64) -> [UInt8] {
        let value = UInt64(bitPattern: id)
        return (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    /// KEYS[1] the partition; ARGV[1] "1" when the partition must exist already, then
    /// pairs of (field, id). Returns 1 if this call created the partition (else 0),
    /// then per pair the bucket's other ids (concatenated 8-byte values, possibly
    /// empty); a partition that must exist and does not gets the error `PFLOST`.
    public static let script = """
        local existed = redis.call('EXISTS', KEYS[1]) == 1
        if ARGV[1] == '1' and not existed then
          return redis.error_reply('PFLOST band index partition ' .. KEYS[1] .. ' is missing')
        end
        local out = {existed and 0 or 1}
        for i = 2, #ARGV, 2 do
          local field, id = ARGV[i], ARGV[i + 1]
          local held = redis.call('HGET', KEYS[1], field)
          if not held then
            redis.call('HSET', KEYS[1], field, id)
            out[#out + 1] = ''
          else
            local others, present = {}, false
            for j = 1, #held, 8 do
              local one = string.sub(held, j, j + 7)
              if one == id then present = true else others[#others + 1] = one end
            end
            if not present then redis.call('HSET', KEYS[1], field, held .. id) end
            out[#out + 1] = table.concat(others)
          end
        end
        return out
        """
}
