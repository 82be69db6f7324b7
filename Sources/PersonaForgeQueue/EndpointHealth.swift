import Foundation
public import PersonaForgeRedis

/// Each LLM endpoint's health as the workers of a run saw it, kept in Redis for
/// `personaforge status`: requests that answered, errors, 429/503s, ejections, the last
/// error, and which workers have it taken out right now.
///
/// Keys (``QueueLayout/endpointHealth(run:)``): one hash of totals per run, and one per
/// minute (expiring after 3) for the rate. Fields are `<endpoint>|<counter>`, and
/// `<endpoint>|out@<worker>` with the wall-clock millisecond until which that worker
/// keeps it out (0: in). Workers add their deltas every few seconds in one pipeline.
public enum EndpointHealth {
    /// What one worker saw of one endpoint since its last report.
    public struct Delta: Sendable, Equatable {
        public var endpoint: String
        public var ok = 0
        public var errors = 0
        public var rateLimited = 0
        public var ejections = 0
        public var lastError: String?
        /// Wall-clock milliseconds until which this worker keeps the endpoint out; 0 while it is in.
        public var outUntilMilliseconds: Int64 = 0

        public init(endpoint: String) { self.endpoint = endpoint }
    }

    /// One endpoint of a run, over all workers.
    public struct Row: Sendable, Equatable {
        public var endpoint: String
        public var ok: Int64 = 0
        public var errors: Int64 = 0
        public var rateLimited: Int64 = 0
        public var ejections: Int64 = 0
        public var lastError: String?
        /// Workers that have it out now.
        public var workersOut = 0
        /// Workers that reported on it.
        public var workers = 0
        /// Answered requests in the last complete minute.
        public var okLastMinute: Int64 = 0
    }

    static func minute(_ milliseconds: Int64) -> Int64 { milliseconds / 60_000 }

    /// The pipeline that adds `deltas` (of `worker`, in `run`) at wall-clock `now`.
    public static func commands(_ deltas: [Delta], run: String, worker: String, layout: QueueLayout, nowMilliseconds now: Int64) -> [RedisCommand] {
        let totals = layout.endpointHealth(run: run)
        let perMinute = layout.endpointHealth(run: run, minute: minute(now))
        var commands: [RedisCommand] = []
        for delta in deltas {
            let name = delta.endpoint
            for (counter, value) in [("ok", delta.ok), ("errors", delta.errors), ("rate_limited", delta.rateLimited), ("ejections", delta.ejections)] where value > 0 {
                commands.append(RedisCommand("HINCRBY", totals, "\(name)|\(counter)", value))
                if counter == "ok" || counter == "errors" { commands.append(RedisCommand("HINCRBY", perMinute, "\(name)|\(counter)", value)) }
            }
            var fields: [any RedisArgument] = ["HSET", totals, "\(name)|out@\(worker)", String(delta.outUntilMilliseconds)]
            if let error = delta.lastError { fields += ["\(name)|last_error", String(error.prefix(300))] }
            commands.append(RedisCommand(fields))
        }
        guard !commands.isEmpty else { return [] }
        commands.append(RedisCommand("PEXPIRE", totals, 7 * 24 * 3_600_000))
        commands.append(RedisCommand("PEXPIRE", perMinute, 180_000))
        return commands
    }

    /// The run's endpoints, in name order; empty when no worker reported (a run without requests yet).
    public static func read(redis: RedisConnection, layout: QueueLayout, run: String, nowMilliseconds now: Int64) async throws -> [Row] {
        let replies = try await redis.pipeline([
            RedisCommand("HGETALL", layout.endpointHealth(run: run)),
            RedisCommand("HGETALL", layout.endpointHealth(run: run, minute: minute(now) - 1)),
        ])
        var rows: [String: Row] = [:]
        func visit(_ reply: RedisReply, _ body: (inout Row, Substring, String) -> Void) {
            guard let items = reply.array else { return }
            var index = 0
            while index + 1 < items.count {
                defer { index += 2 }
                guard let field = items[index].string, let value = items[index + 1].string, let bar = field.lastIndex(of: "|") else { continue }
                let name = String(field[..<bar])
                var row = rows[name] ?? Row(endpoint: name)
                body(&row, field[field.index(after: bar)...], value)
                rows[name] = row
            }
        }
        visit(replies[0]) { row, counter, value in
            switch counter {
            case "ok": row.ok = Int64(value) ?? 0
            case "errors": row.errors = Int64(value) ?? 0
            case "rate_limited": row.rateLimited = Int64(value) ?? 0
            case "ejections": row.ejections = Int64(value) ?? 0
            case "last_error": row.lastError = value
            case let out where out.hasPrefix("out@"):
                row.workers += 1
                if (Int64(value) ?? 0) > now { row.workersOut += 1 }
            default: break
            }
        }
        visit(replies[1]) { row, counter, value in
            if counter == "ok" { row.okLastMinute = Int64(value) ?? 0 }
        }
        return rows.values.sorted { $0.endpoint < $1.endpoint }
    }
}
