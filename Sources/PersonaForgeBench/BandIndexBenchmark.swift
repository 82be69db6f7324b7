import Foundation
import PersonaForgeBandIndex
import PersonaForgeCore
import PersonaForgeRedis
import PersonaForgeTestSupport

/// Capacity and decision rate of the LSH band index in Redis (``RedisBandIndex``),
/// on one private `redis-server` and on a private Redis Cluster of `nodes` masters,
/// side by side in one invocation (`personaforge-bench --band-index N`).
///
/// For each layout:
/// 1. fill: `records` records of `bands` band keys each (random buckets: unrelated
///    texts), added in batches of `batch` records by one client;
/// 2. memory: the `used_memory` the fill added, summed over the nodes, per record;
/// 3. decisions: `probe` new records, half of them near copies of random earlier
///    records (sharing 5 of their bands), by 1 client and then by 2 clients at once
///    (two reducers), each with its own connections. A decision here is the index
///    step of the reducer — add the record's band keys and get the holders of its
///    buckets — without the signature fetch from PostgreSQL that confirms them.
/// 4. CPU: the Redis servers' and this process's CPU seconds per record in each step.
struct BandIndexBenchmark {
    var records: Int
    var batch: Int
    var probe: Int
    var bands: Int
    var nodes: Int
    var partitions: Int

    static func bucket(_ id: Int64, _ band: Int) -> UInt64 {
        var generator = SplitMix64(state: UInt64(bitPattern: id) &* 64 &+ UInt64(band))
        return generator.next()
    }

    func run() async throws -> [String] {
        var lines: [String] = []
        let single = try RedisServerProcess(extraArguments: ["--maxmemory-policy", "noeviction"])
        lines += try await measure(layout: "1 redis-server", url: single.url, pids: [single.pid].compactMap { $0 })
        single.stop()
        let cluster = try RedisClusterProcess(nodes: nodes)
        lines += try await measure(layout: "cluster of \(nodes)", url: cluster.url, pids: cluster.pids)
        cluster.stop()
        return lines
    }

    func usedMemory(_ url: String) async throws -> Int {
        let seed = RedisCluster(seed: try RedisConfiguration(url: url))
        var total = 0
        for configuration in try await seed.nodeConfigurations() {
            let node = RedisConnection(configuration: configuration)
            let info = try await node.send("INFO", "memory").string ?? ""
            if let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("used_memory:") }) {
                total += Int(line.dropFirst("used_memory:".count)) ?? 0
            }
        }
        return total
    }

    func serverCPU(_ pids: [Int32]) -> Double {
        pids.reduce(0) { $0 + (ProcessCPU.seconds(of: $1) ?? 0) }
    }

    func entries(_ ids: some Sequence<Int64>, nearCopyOf original: (Int64) -> Int64?) -> [BandEntry] {
        var entries: [BandEntry] = []
        for id in ids {
            let source = original(id)
            for band in 0..<bands {
                let bucket = (source != nil && band < 5) ? Self.bucket(source!, band) : Self.bucket(id, band)
                entries.append(BandEntry(band: band, bucket: bucket, id: id))
            }
        }
        return entries
    }

    func measure(layout: String, url: String, pids: [Int32]) async throws -> [String] {
        var lines = ["band index on \(layout), \(partitions) partitions per scope, \(bands) bands per record:"]
        let index = RedisBandIndex(cluster: RedisCluster(seed: try RedisConfiguration(url: url)), namespace: "bench", partitions: partitions)
        let memoryBefore = try await usedMemory(url)
        let me = getpid()
        var cpu0 = (serverCPU(pids), ProcessCPU.seconds(of: me) ?? 0)
        var started = ContinuousClock.now
        var next: Int64 = 1
        var lastReport = (time: started, end: Int64(0))
        let step = Int64(max(batch, records / 5))
        while next <= Int64(records) {
            let end = min(Int64(records), next + Int64(batch) - 1)
            _ = try await index.addAndProbe(scopeID: 1, entries(next...end) { _ in nil })
            next = end + 1
            if end - lastReport.end >= step || end == Int64(records) {
                let now = ContinuousClock.now
                lines.append(String(format: "  fill to %d records: %.0f records/s", end, Double(end - lastReport.end) / (now - lastReport.time).seconds))
                lastReport = (now, end)
            }
        }
        let fillSeconds = (ContinuousClock.now - started).seconds
        let cpu1 = (serverCPU(pids), ProcessCPU.seconds(of: me) ?? 0)
        let memory = try await usedMemory(url) - memoryBefore
        lines.append(String(format: "  fill of %d records: %.0f records/s; redis %.1f µs, client %.1f µs CPU per record",
                            records, Double(records) / fillSeconds, (cpu1.0 - cpu0.0) / Double(records) * 1e6, (cpu1.1 - cpu0.1) / Double(records) * 1e6))
        let perRecord = Double(memory) / Double(records)
        lines.append(String(format: "  memory: %.0f bytes per indexed record, %.2f M records per GiB, %.0f GiB for 10^9 records",
                            perRecord, Double(1 << 30) / perRecord / 1e6, perRecord * 1e9 / Double(1 << 30)))

        // Decisions: half near copies of earlier records.
        func probeRun(first: Int64, count: Int) async throws -> (found: Int, copies: Int) {
            let client = RedisBandIndex(cluster: RedisCluster(seed: try RedisConfiguration(url: url)), namespace: "bench", partitions: partitions)
            var generator = SplitMix64(state: UInt64(first))
            var found = 0, copies = 0
            var id = first
            while id < first + Int64(count) {
                let end = min(first + Int64(count), id + Int64(batch))
                var originals: [Int64: Int64] = [:]
                for candidate in id..<end where candidate % 2 == 0 {
                    originals[candidate] = Int64(generator.next() % UInt64(records)) + 1
                }
                copies += originals.count
                let batchEntries = entries(id..<end) { originals[$0] }
                let holders = try await client.addAndProbe(scopeID: 1, batchEntries)
                var matched = Set<Int64>()
                for (entry, ids) in zip(batchEntries, holders) where originals[entry.id].map(ids.contains) ?? false { matched.insert(entry.id) }
                found += matched.count
                id = end
            }
            return (found, copies)
        }
        for clients in [1, 2] {
            cpu0 = (serverCPU(pids), ProcessCPU.seconds(of: me) ?? 0)
            started = ContinuousClock.now
            let base = Int64(records) + 1 + Int64(clients - 1) * Int64(probe)
            let outcomes = try await withThrowingTaskGroup(of: (found: Int, copies: Int).self) { group in
                for client in 0..<clients {
                    group.addTask { try await probeRun(first: base + Int64(client * probe / clients), count: probe / clients) }
                }
                var all: [(found: Int, copies: Int)] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let seconds = (ContinuousClock.now - started).seconds
            let cpu = (serverCPU(pids), ProcessCPU.seconds(of: me) ?? 0)
            let found = outcomes.reduce(0) { $0 + $1.found }, copies = outcomes.reduce(0) { $0 + $1.copies }
            lines.append(String(format: "  decisions, %d client%@, %d records (%d near copies, %d found): %.0f records/s; redis %.1f µs, clients %.1f µs CPU per record",
                                clients, clients == 1 ? "" : "s", probe, copies, found, Double(probe) / seconds,
                                (cpu.0 - cpu0.0) / Double(probe) * 1e6, (cpu.1 - cpu0.1) / Double(probe) * 1e6))
        }
        return lines
    }
}

extension Duration {
    fileprivate var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
