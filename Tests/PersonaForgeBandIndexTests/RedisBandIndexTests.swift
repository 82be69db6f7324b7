import PersonaForgeBandIndex
import PersonaForgeCore
import PersonaForgeRedis
import PersonaForgeTestSupport
import Testing

/// The band index against a real private redis-server and a real 3-node Redis Cluster.
@Suite(.serialized) struct RedisBandIndexTests {
    /// One scope of an index, with a client of its own.
    struct Scoped {
        let index: RedisBandIndex
        let scope: Int
        func addAndProbe(_ entries: [BandEntry]) async throws -> [[Int64]] { try await index.addAndProbe(scopeID: scope, entries) }
        func key(partition: Int) -> String { index.key(scopeID: scope, partition: partition) }
    }

    static func index(_ url: String, scope: Int = 7, partitions: Int = 16) throws -> Scoped {
        Scoped(index: RedisBandIndex(cluster: RedisCluster(seed: try RedisConfiguration(url: url)), namespace: "test", partitions: partitions), scope: scope)
    }

    @Test func aBucketReturnsItsEarlierHoldersAndAddingAgainChangesNothing() async throws {
        let server = try RedisServerProcess()
        let index = try Self.index(server.url)
        let first = try await index.addAndProbe([
            BandEntry(band: 0, bucket: 42, id: 1), BandEntry(band: 1, bucket: 42, id: 1), BandEntry(band: 0, bucket: 43, id: 2),
        ])
        #expect(first == [[], [], []])
        // Same bucket in band 0: sees 1. Bucket 42 of band 2 is another bucket.
        let second = try await index.addAndProbe([BandEntry(band: 0, bucket: 42, id: 3), BandEntry(band: 2, bucket: 42, id: 3)])
        #expect(second == [[1], []])
        // A redelivery of record 1: its holders besides itself, nothing added twice.
        let again = try await index.addAndProbe([BandEntry(band: 0, bucket: 42, id: 1)])
        #expect(again == [[3]])
        let fourth = try await index.addAndProbe([BandEntry(band: 0, bucket: 42, id: 4)])
        #expect(fourth == [[1, 3]])
        // One batch holding two records of one bucket: the later sees the earlier.
        let batch = try await index.addAndProbe([BandEntry(band: 5, bucket: 9, id: 10), BandEntry(band: 5, bucket: 9, id: 11)])
        #expect(batch == [[], [10]])
        // Bands past 255 (e.g. 512 permutations in rows of 1) are their own: 300 is not 44.
        #expect(try await index.addAndProbe([BandEntry(band: 44, bucket: 77, id: 20)]) == [[]])
        #expect(try await index.addAndProbe([BandEntry(band: 300, bucket: 77, id: 21)]) == [[]])
        #expect(try await index.addAndProbe([BandEntry(band: 300, bucket: 77, id: 22)]) == [[21]])
        // Another scope is another index.
        let other = try Self.index(server.url, scope: 8)
        #expect(try await other.addAndProbe([BandEntry(band: 0, bucket: 42, id: 99)]) == [[]])
    }

    /// Each call reports the partitions it created; a call expecting them finds a
    /// Redis that lost them (FLUSHALL, as a restart without persistence) and refuses
    /// without adding to them, while a call that expects nothing (a rebuild) refills.
    @Test func aPartitionExpectedButMissingIsReportedAsLost() async throws {
        let server = try RedisServerProcess()
        let index = try Self.index(server.url, partitions: 4)
        let entries = (0..<40).map { BandEntry(band: $0 % 3, bucket: UInt64($0) &* 0x9E37_79B9_7F4A_7C15, id: Int64($0)) }
        let first = try await index.index.addAndProbe(scopeID: index.scope, entries, expected: [])
        #expect(first.created == [0, 1, 2, 3])
        let again = try await index.index.addAndProbe(scopeID: index.scope, entries, expected: first.created)
        #expect(again.created.isEmpty)
        #expect(again.holders == first.holders)
        let redis = RedisConnection(configuration: try RedisConfiguration(url: server.url))
        _ = try await redis.send("FLUSHALL")
        let error = try await #require(throws: BandIndexLostError.self) {
            try await index.index.addAndProbe(scopeID: index.scope, entries, expected: first.created)
        }
        #expect(error.partitions == [0, 1, 2, 3])
        #expect(try await redis.send("DBSIZE").integer == 0)
        // A rebuild expects nothing and creates them again.
        #expect(try await index.index.addAndProbe(scopeID: index.scope, entries, expected: []).created == [0, 1, 2, 3])
    }

    @Test func ofTwoRecordsAddedAtOnceToOneBucketTheSecondSeesTheFirst() async throws {
        let cluster = try RedisClusterProcess()
        // 8 concurrent clients add 4,000 records of 9 bands each, with buckets drawn
        // from a small range so that many pairs collide.
        let clients = 8, perClient = 500, bands = 9
        func bucket(_ id: Int64, _ band: Int) -> UInt64 {
            var generator = SplitMix(state: UInt64(id) &* 16 &+ UInt64(band))
            return generator.next() % 300
        }
        let seen = try await withThrowingTaskGroup(of: [Int64: Set<Int64>].self) { group in
            for client in 0..<clients {
                group.addTask {
                    let index = try Self.index(cluster.url, partitions: 64)
                    var seen: [Int64: Set<Int64>] = [:]
                    for chunk in stride(from: 0, to: perClient, by: 50) {
                        let ids = (chunk..<min(perClient, chunk + 50)).map { Int64(client * perClient + $0 + 1) }
                        let entries = ids.flatMap { id in (0..<bands).map { BandEntry(band: $0, bucket: bucket(id, $0), id: id) } }
                        for (entry, holders) in zip(entries, try await index.addAndProbe(entries)) {
                            seen[entry.id, default: []].formUnion(holders)
                        }
                    }
                    return seen
                }
            }
            var all: [Int64: Set<Int64>] = [:]
            for try await part in group { all.merge(part) { $0.union($1) } }
            return all
        }
        // Every pair sharing a bucket of a band: at least one of the two saw the other.
        var holders: [[UInt64: [Int64]]] = Array(repeating: [:], count: bands)
        for id in 1...Int64(clients * perClient) {
            for band in 0..<bands { holders[band][bucket(id, band), default: []].append(id) }
        }
        var pairs = 0, missed = 0
        for band in 0..<bands {
            for ids in holders[band].values where ids.count > 1 {
                for i in 0..<ids.count {
                    for j in (i + 1)..<ids.count {
                        pairs += 1
                        let a = ids[i], b = ids[j]
                        if !(seen[a]?.contains(b) ?? false) && !(seen[b]?.contains(a) ?? false) { missed += 1 }
                    }
                }
            }
        }
        #expect(pairs > 10_000)
        #expect(missed == 0, "\(missed) of \(pairs) colliding pairs were seen by neither record")
        // The partitions are spread over the nodes: every node holds some.
        for port in cluster.ports {
            let node = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(port)/0"))
            let keys = try await node.send("DBSIZE").integer ?? 0
            #expect(keys > 0, "node \(port) holds no partition")
        }
    }

    @Test func aPartitionMovedToAnotherNodeIsFollowed() async throws {
        let cluster = try RedisClusterProcess()
        let index = try Self.index(cluster.url, scope: 3, partitions: 4)
        let entries = (0..<64).map { BandEntry(band: $0 % 9, bucket: UInt64($0), id: Int64($0 + 1)) }
        _ = try await index.addAndProbe(entries)
        // Move the slot of partition 0 to another node; the same client still finds its holders.
        let slot = RedisClusterSlot.of(Array(index.key(partition: 0).utf8))
        let owner = try #require(try await Self.owner(of: slot, in: cluster))
        let target = try #require(cluster.ports.first { $0 != owner })
        try cluster.migrateSlot(slot, from: owner, to: target)
        let again = try await index.addAndProbe(entries.map { BandEntry(band: $0.band, bucket: $0.bucket, id: $0.id + 1000) })
        #expect(again == entries.map { [$0.id] })
    }

    /// The port of the master serving `slot`, from the first node's `CLUSTER SLOTS`.
    static func owner(of slot: Int, in cluster: RedisClusterProcess) async throws -> Int? {
        let node = RedisConnection(configuration: try RedisConfiguration(url: cluster.url))
        for range in try await node.send("CLUSTER", "SLOTS").array ?? [] {
            guard let parts = range.array, parts.count >= 3, let start = parts[0].integer, let end = parts[1].integer,
                  let master = parts[2].array, master.count >= 2, let port = master[1].integer else { continue }
            if (start...end).contains(Int64(slot)) { return Int(port) }
        }
        return nil
    }
}

/// SplitMix64, for test buckets that do not depend on the code under test.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }
}
