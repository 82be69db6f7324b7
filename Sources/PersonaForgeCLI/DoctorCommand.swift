import ArgumentParser
import Foundation
import Logging
import PersonaForgeBandIndex
import PersonaForgeCore
import PersonaForgeHTTP
import PersonaForgeLLM
import PersonaForgePostgres
import PersonaForgeQueue
import PersonaForgeRedis
import PersonaForgeStore
import PersonaForgeWorker

/// `personaforge doctor`: checks Redis, PostgreSQL and the LLM endpoint that the flags
/// and environment point at, and says precisely what is wrong and how to fix it.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the connections to Redis, PostgreSQL and the LLM endpoint.",
        discussion: "Exit status: 0 when every check passed (warnings allowed), 1 when any failed."
    )

    @OptionGroup var connections: ConnectionOptions

    @Option(help: "Check only these services (comma-separated: redis, postgres, llm).")
    var only: String?

    @Flag(help: "Skip the test chat completion (checks only that the model is listed).")
    var noCompletion = false

    @Option(help: "Redis key namespace whose keys must be usable (env: PERSONAFORGE_NAMESPACE).")
    var namespace: String = ProcessInfo.processInfo.environment["PERSONAFORGE_NAMESPACE"] ?? "pf"

    @Option(help: ArgumentHelp(
        "The reducers' band index in Redis or Redis Cluster, if they use one: checks its persistence and that no partition is lost.",
        discussion: "Env: PERSONAFORGE_BAND_INDEX_URL."))
    var bandIndexURL: String?

    @Option(help: ArgumentHelp(
        "Check the LLM endpoints of this run config (each of model.endpoints, or its base_url) instead of the one the flags name.",
        discussion: "Each endpoint with its own model name and key (api_key_env / api_key_file read here)."))
    var config: String?

    func run() async throws {
        let selected = Set((only ?? "redis,postgres,llm").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        for name in selected where !["redis", "postgres", "llm"].contains(name) {
            throw ValidationError("unknown service '\(name)' in --only: use redis, postgres, llm")
        }
        var report = DoctorReport()
        if selected.contains("redis") { await checkRedis(&report) }
        if selected.contains("postgres") { await checkPostgres(&report) }
        if selected.contains("llm") {
            if let config { await checkRunEndpoints(config, &report) } else { await checkLLM(&report) }
        }
        if selected.contains("postgres") { await checkBandIndex(&report) }
        print("")
        if report.failures == 0 {
            print(Style.ok("All checks passed") + (report.warnings > 0 ? " (\(report.warnings) warning\(report.warnings == 1 ? "" : "s"))." : "."))
        } else {
            print(Style.fail("\(report.failures) check\(report.failures == 1 ? "" : "s") failed") + ": fix the lines marked ✗ and run `personaforge doctor` again.")
            throw ExitCode(1)
        }
    }

    // MARK: Band index

    /// With `--band-index-url`: every master reachable, its persistence, and every
    /// partition PostgreSQL recorded for a Redis scope present (else the rebuild).
    private func checkBandIndex(_ report: inout DoctorReport) async {
        let environmentURL = ProcessInfo.processInfo.environment["PERSONAFORGE_BAND_INDEX_URL"]
        let index: RedisBandIndex
        do {
            guard let configured = try BandIndexOption.index(bandIndexURL, namespace: namespace) else { return }
            index = configured
        } catch {
            report.section("Band index", "", source: bandIndexURL == nil ? "PERSONAFORGE_BAND_INDEX_URL" : "--band-index-url")
            report.fail("\(error)", fix: "give --band-index-url (or PERSONAFORGE_BAND_INDEX_URL) as redis://host:port/0")
            return
        }
        report.section("Band index", RedisConfiguration.redact(bandIndexURL ?? environmentURL ?? ""),
                       source: bandIndexURL == nil ? "PERSONAFORGE_BAND_INDEX_URL" : "--band-index-url")
        do {
            let nodes = try await index.cluster.nodeConfigurations()
            report.ok("\(nodes.count) master\(nodes.count == 1 ? "" : "s") reachable")
            for node in nodes {
                let connection = RedisConnection(configuration: node)
                let aof = try? await connection.send("CONFIG", "GET", "appendonly").array?.last?.string
                let fsync = try? await connection.send("CONFIG", "GET", "appendfsync").array?.last?.string
                if let aof, let fsync {
                    if aof != "yes" || fsync != "always" {
                        report.warn("\(node.host):\(node.port) runs appendonly \(aof), appendfsync \(fsync): a restart or crash can lose index writes",
                                    fix: "run the index Redis with --appendonly yes --appendfsync always and a replica (docs/dedup.md)")
                    }
                } else {
                    report.ok("\(node.host):\(node.port): CONFIG not permitted, persistence not checked")
                }
            }
        } catch {
            report.fail("\(error)", fix: "check --band-index-url and that every node of the cluster is up")
            return
        }
        let logger = Logger(label: "personaforge.doctor") { _ in SwiftLogNoOpLogHandler() }
        do {
            let connection = try await PostgresConnection.connect(to: connections.database.value, logger: logger)
            var expected: [Int: [Int]] = [:]
            for row in try await connection.query(
                "SELECT s.id, p.partition FROM dedup_scopes s JOIN band_index_partitions p ON p.scope_id = s.id WHERE s.band_store = 'redis' ORDER BY 1, 2"
            ) {
                if let id = row["id"].int, let partition = row["partition"].int { expected[id, default: []].append(partition) }
            }
            await connection.close()
            var lostScopes = 0
            for (scopeID, partitions) in expected.sorted(by: { $0.key < $1.key }) {
                let keys = partitions.map { index.key(scopeID: scopeID, partition: $0) }
                let replies = try await index.cluster.pipeline(keys.map { (slotKey: Array($0.utf8), command: RedisCommand(["EXISTS", $0])) })
                let missing = zip(partitions, replies).filter { $0.1.integer != 1 }.map(\.0)
                if !missing.isEmpty {
                    lostScopes += 1
                    report.fail("dedup scope \(scopeID): \(missing.count) of \(partitions.count) partitions are missing from the index (lost writes)",
                                fix: "personaforge band-index rebuild --scope-id \(scopeID) (reducers decide nothing of it until then)")
                }
            }
            if lostScopes == 0 {
                report.ok("\(expected.count) scope\(expected.count == 1 ? "" : "s") in Redis, \(expected.values.map(\.count).reduce(0, +)) partitions, none missing")
            }
        } catch {
            report.fail("\(error)", fix: "the band index check needs the PostgreSQL database (migration 10) and the index")
        }
    }

    // MARK: Redis

    private func checkRedis(_ report: inout DoctorReport) async {
        let (url, source) = connections.redis
        report.section("Redis", RedisConfiguration.redact(url), source: source)
        let configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(url: url)
        } catch {
            report.fail(error.message, fix: "set PERSONAFORGE_REDIS_URL or --redis-url to redis://[[user]:password@]host:port[/db]")
            return
        }
        let redis = RedisConnection(configuration: configuration, logger: Logger(label: "personaforge.doctor") { _ in SwiftLogNoOpLogHandler() })
        do {
            try await redis.send("PING")
            // A least-privilege ACL user may not run INFO or CONFIG: not a failure.
            var version: String?
            do {
                version = DoctorReport.infoField("redis_version", in: try await redis.send("INFO", "server").string ?? "") ?? "unknown"
            } catch where error.serverCode == "NOPERM" {}
            let user = configuration.username.map { " as user \($0)" } ?? ""
            report.ok("reachable, authenticated\(user), database \(configuration.database), Redis \(version ?? "version unknown (INFO not permitted for this user)")")
            if let version, case let numbers = version.split(separator: ".").compactMap({ Int($0) }), numbers.count >= 2,
               (numbers[0], numbers[1]) < (6, 2) {
                report.fail("Redis \(version) lacks XAUTOCLAIM, which reclaiming shards from dead workers needs",
                            fix: "use Redis 6.2 or newer")
            }
            let layout = QueueLayout(namespace: namespace)
            do {
                try await redis.send("XLEN", layout.shards)
                report.ok("may use the keys of namespace '\(namespace)' (\(layout.redisKeyPattern))")
            } catch where error.serverCode == "NOPERM" {
                report.fail("the Redis user may not use the keys of namespace '\(namespace)' (\(layout.redisKeyPattern)): \(error.message)",
                            fix: "grant them: ACL SETUSER \(configuration.username ?? "default") \(layout.redisACLRules.joined(separator: " ")) (docs/operations.md, \"Redis ACL\")")
            }
            do {
                let policyReply = try await redis.send("CONFIG", "GET", "maxmemory-policy")
                if let policy = policyReply.array?.last?.string, policy != "noeviction" {
                    report.warn("maxmemory-policy is \(policy): under memory pressure Redis may evict queued shards",
                                fix: "set maxmemory-policy noeviction (the coordinator bounds queue depth itself)")
                }
            } catch where error.serverCode == "ERR" && error.message.contains("CONFIG") {
                report.ok("CONFIG is disabled on this server (managed Redis); eviction policy not checked")
            } catch where error.serverCode == "NOPERM" {
                report.ok("CONFIG is not permitted for this user (ACL); eviction policy not checked")
            }
        } catch {
            report.fail(error.message, fix: DoctorCommand.redisFix(error, configuration: configuration))
        }
        await redis.close()
    }

    static func redisFix(_ error: RedisError, configuration: RedisConfiguration) -> String? {
        switch error.code {
        case .unreachable, .timeout:
            "start Redis (locally: deploy/local/stack.sh up redis) or point PERSONAFORGE_REDIS_URL at a running one"
        case .authenticationRequired:
            "put the user (for a Redis ACL user) and password in the URL: redis://[USER]:PASSWORD@\(configuration.host):\(configuration.port)/\(configuration.database)"
        case .authenticationFailed:
            "check the username/password in PERSONAFORGE_REDIS_URL (percent-encode special characters)"
        case .server where error.message.contains("DB index is out of range"):
            "the database number /\(configuration.database) does not exist on this server: use a smaller one (usually 0-15)"
        default:
            nil
        }
    }

    // MARK: PostgreSQL

    private func checkPostgres(_ report: inout DoctorReport) async {
        let (url, source) = connections.database
        report.section("PostgreSQL", redactedConnectionString(url), source: source)
        let logger = Logger(label: "personaforge.doctor") { _ in SwiftLogNoOpLogHandler() }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(to: url, logger: logger)
        } catch let error as PostgresError {
            report.fail(error.message, fix: DoctorCommand.postgresFix(error))
            return
        } catch {
            report.fail("\(error)", fix: nil)
            return
        }
        do {
            let row = try await connection.query("""
                SELECT current_user AS who, current_database() AS db, current_setting('server_version') AS version,
                       has_database_privilege(current_database(), 'CREATE') AS can_create,
                       has_schema_privilege(current_schema(), 'CREATE') AS can_create_tables
                """)[0]
            let version = row["version"].string ?? "?"
            report.ok("connected as \(row["who"].string ?? "?") to database \(row["db"].string ?? "?"), PostgreSQL \(version)")
            if let major = Int(version.prefix { $0.isNumber }), major < 13 {
                report.fail("PostgreSQL \(version) is too old", fix: "use PostgreSQL 13 or newer")
            }
            if row["can_create_tables"].bool != true {
                report.fail("user \(row["who"].string ?? "?") cannot create tables in schema \(try await connection.query("SELECT current_schema() AS s")[0]["s"].string ?? "?")",
                            fix: "GRANT CREATE ON SCHEMA public TO \(row["who"].string ?? "the user"); or use a database the user owns")
            }
            let migrator = try Migrator(migrations: PersonaForgeSchema.migrations, logger: logger)
            let applied = Set((try? await migrator.appliedMigrations(connection))?.map(\.version) ?? [])
            let pending = PersonaForgeSchema.migrations.filter { !applied.contains($0.version) }
            if pending.isEmpty {
                report.ok("schema up to date (\(applied.count) migration\(applied.count == 1 ? "" : "s") applied)")
            } else {
                report.warn("schema: \(pending.count) of \(PersonaForgeSchema.migrations.count) migrations not applied yet",
                            fix: "run `personaforge migrate` (commands that write also apply them)")
            }
        } catch let error as PostgresError {
            report.fail(error.message, fix: DoctorCommand.postgresFix(error))
        } catch {
            report.fail("\(error)", fix: nil)
        }
        await connection.close()
    }

    static func postgresFix(_ error: PostgresError) -> String? {
        switch error.code {
        case .unreachable:
            "start PostgreSQL (locally: deploy/local/stack.sh up postgres) or point PERSONAFORGE_DATABASE_URL at a running one"
        case .authenticationFailed:
            "check the user and password in PERSONAFORGE_DATABASE_URL (and pg_hba.conf on the server)"
        case .databaseDoesNotExist:
            "create it (CREATE DATABASE ...) or fix the database name at the end of PERSONAFORGE_DATABASE_URL"
        case .tlsFailed:
            "fix sslmode / sslrootcert / the host name in PERSONAFORGE_DATABASE_URL (docs/operations.md, \"PostgreSQL over TLS\")"
        default:
            nil
        }
    }

    // MARK: LLM

    private func checkLLM(_ report: inout DoctorReport) async {
        let (url, source) = connections.llmBase
        let model = connections.model.value
        report.section("LLM", "\(url), model \(model)", source: source)
        let endpoint: LLMEndpoint
        do {
            endpoint = try connections.llmEndpoint()
        } catch {
            report.fail("\(error)", fix: nil)
            return
        }
        if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            report.fail("the base URL must start with http:// or https://", fix: "e.g. PERSONAFORGE_LLM_BASE_URL=http://127.0.0.1:8088/v1")
            return
        }
        await checkEndpoint(endpoint, modelFix: "set PERSONAFORGE_LLM_MODEL or --llm-model to one of the served names", &report)
    }

    /// Every endpoint of a run config, as the run's workers will call them.
    private func checkRunEndpoints(_ path: String, _ report: inout DoctorReport) async {
        let model: ModelSettings
        do {
            model = try RunConfigLoader().load(path: path).config.model
        } catch {
            report.section("LLM", path, source: "run config")
            report.fail("the run config does not load: \(error)", fix: "run `personaforge plan \(path)` for every problem with its line")
            return
        }
        for (endpoint, member) in LLMEndpointOverride().pool(for: model) {
            var notes = [member.weight == 0 ? "fallback" : "weight \(SVGFormat.value(member.weight))"]
            if let rpm = member.requestsPerMinute { notes.append("\(SVGFormat.value(rpm)) requests/min") }
            if let tpm = member.tokensPerMinute { notes.append("\(SVGFormat.value(tpm)) tokens/min") }
            report.section("LLM", "\(member.name): \(endpoint.baseURL), model \(endpoint.model), \(notes.joined(separator: ", "))", source: path)
            if endpoint.apiKey == nil, let variable = member.apiKeyEnvironmentVariable {
                report.warn("no key: \(variable) is not set here", fix: "workers need \(variable) in their environment for this endpoint")
            }
            await checkEndpoint(endpoint, modelFix: "set the endpoint's model (or model.name) in \(path) to one of the served names", &report)
        }
    }

    /// `GET /models` lists the model, then a 4-token chat completion (unless --no-completion).
    private func checkEndpoint(_ endpoint: LLMEndpoint, modelFix: String, _ report: inout DoctorReport) async {
        let model = endpoint.model
        let http = HTTPClient(logger: Logger(label: "personaforge.doctor") { _ in SwiftLogNoOpLogHandler() })
        defer { http.shutdown() }
        let client = LLMClient(endpoint: endpoint, http: http, timeout: .seconds(60))
        do {
            let models = try await client.models()
            if models.contains(model) {
                report.ok("reachable; serves \(models.count) model\(models.count == 1 ? "" : "s"), including \(model)")
            } else {
                let list = models.prefix(8).joined(separator: ", ")
                report.fail("model '\(model)' is not served here (served: \(list.isEmpty ? "none" : list))", fix: modelFix)
                return
            }
        } catch {
            // Some gateways have no /models; the completion below still tells.
            if error.code == .notFound {
                report.warn("GET \(endpoint.url("models")) answered 404: cannot list models", fix: "if completions fail too, check that the base URL ends in /v1")
            } else {
                report.fail(error.message, fix: DoctorCommand.llmFix(error))
                return
            }
        }
        if noCompletion { return }
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let completion = try await client.chat(ChatCompletionRequest(model: model, messages: [.user("Say OK.")], temperature: 0, maxTokens: 4, seed: 1))
            let elapsed = clock.now - started
            report.ok("chat completion answered in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow))) (\(completion.completionTokens.map { "\($0) tokens" } ?? "no usage reported"))")
        } catch {
            report.fail(error.message, fix: DoctorCommand.llmFix(error))
        }
    }

    static func llmFix(_ error: LLMError) -> String? {
        switch error.code {
        case .transport where error.transport?.code == .connectionFailed || error.transport?.code == .unresolvedHost:
            "start the LLM server (locally: deploy/local/stack.sh up llm) or point PERSONAFORGE_LLM_BASE_URL at one"
        case .transport where error.transport?.code == .tls:
            "the server's certificate did not verify: install its CA in the system trust store"
        case .unauthorized:
            "set PERSONAFORGE_LLM_API_KEY (or PERSONAFORGE_LLM_API_KEY_FILE) to a key this endpoint accepts"
        case .notFound:
            "check that the base URL ends in /v1 and that the model name is right"
        case .rateLimited:
            "the endpoint is rate limiting: wait, or raise the limit for this key"
        default:
            nil
        }
    }
}

/// The lines doctor prints, and the tally.
struct DoctorReport {
    var failures = 0
    var warnings = 0

    mutating func section(_ name: String, _ target: String, source: String) {
        let from = source == "default" ? "default" : source == "flag" ? "from flag" : "from \(source)"
        print(Style.bold(name.padding(toLength: 11, withPad: " ", startingAt: 0)) + "\(target)  (\(from))")
    }

    mutating func ok(_ text: String) {
        print("  " + Style.ok("✓") + " " + text)
    }

    mutating func warn(_ text: String, fix: String?) {
        warnings += 1
        print("  " + Style.warn("!") + " " + text)
        if let fix { print("    → " + fix) }
    }

    mutating func fail(_ text: String, fix: String?) {
        failures += 1
        print("  " + Style.fail("✗") + " " + text)
        if let fix { print("    → " + fix) }
    }

    static func infoField(_ name: String, in info: String) -> String? {
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix(name + ":") {
            return String(line.dropFirst(name.count + 1))
        }
        return nil
    }
}
