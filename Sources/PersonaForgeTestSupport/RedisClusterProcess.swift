import Foundation

/// A private Redis Cluster of N masters (no replicas) on free loopback ports, built with
/// `redis-cli --cluster create`, for tests of cluster clients; with helpers that move a
/// slot between masters the documented way (to exercise `MOVED` and `ASK`).
public final class RedisClusterProcess: @unchecked Sendable {
    // @unchecked Sendable: `processes` is emptied only by stop(), which a test calls from
    // one task at a time; everything else is immutable.
    /// The masters' ports, in the order they were created.
    public let ports: [Int]
    private var processes: [ChildProcess] = []
    private let directory: URL
    private let cliPath: String

    /// Starts `nodes` masters (at least 3), joins them into one cluster and waits until every node
    /// reports `cluster_state:ok` (up to `timeout`).
    ///
    /// The node timeout is 15 s, not the 2 s a failover test would want: with the whole test
    /// suite on 2 cores a node can be starved of CPU for seconds, and a shorter timeout lets
    /// its peers mark it failed, which turns the cluster's state to `fail` and every reply
    /// into `CLUSTERDOWN` in the middle of a test that kills nothing. (No test here relies on
    /// failure detection: a killed master is found unreachable by the client itself.)
    public init(nodes: Int = 3, timeout: Duration = .seconds(60)) throws {
        guard nodes >= 3 else {
            throw TestSupportError("redis-cli --cluster create needs at least 3 masters; got nodes: \(nodes)")
        }
        let candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        guard let serverPath = candidates.first(where: FileManager.default.isExecutableFile(atPath:)),
              let cliPath = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw TestSupportError("redis-server and redis-cli not found: run deploy/local/install.sh")
        }
        self.cliPath = cliPath
        var ports: [Int] = []
        while ports.count < nodes {
            // The cluster bus listens on port + 10000: both must be free (and not another node's).
            ports.append(try Loopback.freePort(companionOffset: 10000))
        }
        self.ports = ports
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-redis-cluster-\(ports[0])-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        do {
            for port in ports {
                processes.append(try ChildProcess([
                    serverPath, "--cluster-enabled", "yes",
                    "--cluster-config-file", directory.appendingPathComponent("nodes-\(port).conf").path,
                    "--cluster-node-timeout", "15000",
                    "--bind", "127.0.0.1", "--port", String(port),
                    "--save", "", "--appendonly", "no", "--dir", directory.path,
                ], logPath: directory.appendingPathComponent("redis-\(port).log").path))
            }
            for port in ports {
                try Loopback.waitUntilListening(port: port)
            }
            let create = try run(["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "0", "--cluster-yes"], timeout: timeout)
            guard create.contains("All 16384 slots covered") else {
                throw TestSupportError("redis-cli --cluster create failed on ports \(ports): \(create.suffix(2000))")
            }
            try waitUntilStateIsOK(timeout: timeout)
        } catch {
            stop()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The process ids of the running nodes, in the order of ``ports``.
    public var pids: [Int32] { processes.compactMap(\.pid) }

    /// `redis://127.0.0.1:P/0` of the first master: a seed for a cluster client.
    public var url: String { "redis://127.0.0.1:\(ports[0])/0" }

    /// Stops every node (SIGTERM, waits for each to exit).
    public func stop() {
        for process in processes { process.terminate() }
        processes = []
    }

    // MARK: - Inspecting and resharding

    /// Runs one command on the node at `port` through redis-cli and returns its output
    /// (one line per element of an array reply); throws on an error reply.
    @discardableResult
    public func command(port: Int, _ arguments: [String]) throws -> String {
        let output = try run(["-p", String(port)] + arguments, timeout: .seconds(10))
        let firstWord = output.prefix(while: { !$0.isWhitespace })
        if output.hasPrefix("Could not connect") || output.hasPrefix("(error)")
            || (!firstWord.isEmpty && firstWord.allSatisfy(\.isUppercase) && ["ERR", "MOVED", "ASK", "CLUSTERDOWN", "TRYAGAIN", "IOERR", "BUSYKEY", "WRONGTYPE"].contains(String(firstWord))) {
            throw TestSupportError("redis-cli -p \(port) \(arguments.joined(separator: " ")) failed: \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return output
    }

    /// The cluster node id of the master at `port`.
    public func nodeID(port: Int) throws -> String {
        try command(port: port, ["CLUSTER", "MYID"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The port of the master that owns `slot`, as `CLUSTER NODES` on `askingPort` (by
    /// default the first master) reports it.
    public func owner(ofSlot slot: Int, askingPort: Int? = nil) throws -> Int {
        let port = askingPort ?? ports[0]
        // Each line: id host:port@bus flags master ping pong epoch link slot-ranges...
        for line in try command(port: port, ["CLUSTER", "NODES"]).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 8, let address = fields[1].split(separator: "@").first,
                  let colon = address.lastIndex(of: ":"), let nodePort = Int(address[address.index(after: colon)...]) else { continue }
            for range in fields.dropFirst(8) where !range.hasPrefix("[") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                if let low = bounds.first, let high = bounds.last, (low...high).contains(slot) {
                    return nodePort
                }
            }
        }
        throw TestSupportError("no master owns slot \(slot) according to CLUSTER NODES on port \(port)")
    }

    /// Moves `slot` and its keys from the master at `sourcePort` to the one at
    /// `targetPort`, as the Redis Cluster specification documents: IMPORTING on the
    /// target, MIGRATING on the source, MIGRATE of every key, then SETSLOT NODE on all
    /// masters (target first, then source).
    public func migrateSlot(_ slot: Int, from sourcePort: Int, to targetPort: Int) throws {
        try beginSlotMigration(slot, from: sourcePort, to: targetPort)
        while true {
            let keys = try command(port: sourcePort, ["CLUSTER", "GETKEYSINSLOT", String(slot), "100"])
                .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            if keys.isEmpty { break }
            try migrateKeys(keys, from: sourcePort, to: targetPort)
        }
        try finishSlotMigration(slot, from: sourcePort, to: targetPort)
    }

    /// The first half of a migration: the target is IMPORTING `slot`, the source is
    /// MIGRATING it, no key has moved yet. The source now answers `ASK` for keys of the
    /// slot it no longer has. Follow with ``migrateKeys(_:from:to:)`` and
    /// ``finishSlotMigration(_:from:to:)``.
    public func beginSlotMigration(_ slot: Int, from sourcePort: Int, to targetPort: Int) throws {
        let sourceID = try nodeID(port: sourcePort)
        let targetID = try nodeID(port: targetPort)
        try command(port: targetPort, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID])
        try command(port: sourcePort, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID])
    }

    /// Moves `keys` (which must be in a slot being migrated, and must not contain
    /// newlines) from the source to the target with `MIGRATE ... KEYS`.
    public func migrateKeys(_ keys: [String], from sourcePort: Int, to targetPort: Int) throws {
        if keys.isEmpty { return }
        let output = try command(port: sourcePort, ["MIGRATE", "127.0.0.1", String(targetPort), "", "0", "5000", "KEYS"] + keys)
        let reply = output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard reply == "OK" || reply == "NOKEY" else {
            throw TestSupportError("MIGRATE of \(keys.count) keys from port \(sourcePort) to \(targetPort) answered: \(reply)")
        }
    }

    /// Ends a migration: every master learns that `slot` belongs to the target.
    public func finishSlotMigration(_ slot: Int, from sourcePort: Int, to targetPort: Int) throws {
        let targetID = try nodeID(port: targetPort)
        let order = [targetPort, sourcePort] + ports.filter { $0 != targetPort && $0 != sourcePort }
        for port in order {
            try command(port: port, ["CLUSTER", "SETSLOT", String(slot), "NODE", targetID])
        }
    }

    // MARK: - Helpers

    private func waitUntilStateIsOK(timeout: Duration) throws {
        let deadline = ContinuousClock.now + timeout
        var notReady = ports
        var lastInfo = ""
        while ContinuousClock.now < deadline {
            notReady = try notReady.filter { port in
                lastInfo = try run(["-p", String(port), "CLUSTER", "INFO"], timeout: .seconds(5))
                return !lastInfo.contains("cluster_state:ok")
            }
            if notReady.isEmpty { return }
            usleep(100_000)
        }
        throw TestSupportError("Redis Cluster on ports \(ports) not ready after \(timeout): nodes \(notReady) do not report cluster_state:ok (last CLUSTER INFO: \(lastInfo.prefix(300))); logs in \(directory.path)")
    }

    /// Runs redis-cli with `arguments`, waits for it to exit (up to `timeout`) and returns
    /// its standard output and error.
    private func run(_ arguments: [String], timeout: Duration) throws -> String {
        let outputPath = directory.appendingPathComponent("redis-cli-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let process = try ChildProcess([cliPath, "-h", "127.0.0.1"] + arguments, logPath: outputPath)
        let deadline = ContinuousClock.now + timeout
        // Polled, not waitpid'ed blindly: a cluster that never converges must not hang the test.
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                process.terminate(signal: SIGKILL)
                throw TestSupportError("redis-cli \(arguments.joined(separator: " ")) did not finish within \(timeout)")
            }
            usleep(10_000)
        }
        return (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }
}
