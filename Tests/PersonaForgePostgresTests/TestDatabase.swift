import Foundation
import Logging
import PersonaForgePostgres

/// The PostgreSQL the integration tests use, and a private schema per test so
/// that tests can run in parallel.
enum TestDatabase {
    /// `PERSONAFORGE_DATABASE_URL`, or the local stack's default.
    static let url: String =
        ProcessInfo.processInfo.environment["PERSONAFORGE_DATABASE_URL"]
        ?? "postgresql://personaforge:personaforge@127.0.0.1:15432/personaforge"

    /// A logger that drops everything.
    static let quietLogger = Logger(label: "personaforge.tests") { _ in SwiftLogNoOpLogHandler() }

    /// Creates a fresh schema `test_<hex>`, runs `body` with it, and drops it
    /// (also when `body` throws).
    static func withSchema<Result: Sendable>(
        _ body: (TestSchema) async throws -> Result
    ) async throws -> Result {
        let name = "test_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let admin = try await PostgresConnection.connect(to: url, logger: quietLogger)
        try await admin.execute("CREATE SCHEMA \(name)")
        let schema = TestSchema(name: name, url: urlWithSearchPath(name))
        do {
            let result = try await body(schema)
            try await admin.execute("DROP SCHEMA \(name) CASCADE")
            await admin.close()
            return result
        } catch {
            _ = try? await admin.execute("DROP SCHEMA \(name) CASCADE")
            await admin.close()
            throw error
        }
    }

    /// `url` with `search_path` set to `schema` through the `options` parameter,
    /// so that it survives reconnects.
    static func urlWithSearchPath(_ schema: String) -> String {
        if url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") {
            let separator = url.contains("?") ? "&" : "?"
            return url + separator + "options=-csearch_path%3D" + schema
        }
        return url + " options='-csearch_path=\(schema)'"
    }

    /// The URL's parts, for building deliberately wrong URLs.
    static var components: URLComponents {
        URLComponents(string: url)!
    }

    /// The password of the test URL (empty if none).
    static var password: String {
        components.password ?? ""
    }
}

/// A private schema for one test.
struct TestSchema: Sendable {
    /// The schema name (`test_<hex>`).
    let name: String
    /// A connection string whose `search_path` is this schema.
    let url: String

    /// Connects with `search_path` set to the schema.
    func connect(logger: Logger = TestDatabase.quietLogger) async throws -> PostgresConnection {
        try await PostgresConnection.connect(to: url, logger: logger)
    }
}
