import Foundation
import Testing
import PersonaForgePostgres

@Suite("Connection errors are classified and never show the password")
struct ConnectionErrorTests {
    /// Asserts `password` appears nowhere a password could show. When the
    /// password doubles as the user or database name (as in the local stack),
    /// only the password position is checked.
    func expectNoPassword(_ error: PostgresError, _ password: String) {
        let texts = [error.message, error.description, error.serverMessage ?? "", "\(error)"]
        for text in texts {
            #expect(!text.contains(":\(password)@"))
            #expect(!text.contains("password=\(password)"))
            let components = TestDatabase.components
            let doublesAsName = [components.user ?? "", components.path].contains { $0.contains(password) }
            if !doublesAsName {
                #expect(!text.contains(password), "password leaked into: \(text)")
            }
        }
    }

    @Test func wrongPasswordIsAuthenticationFailed() async throws {
        let secret = "wrong-secret-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        var components = TestDatabase.components
        components.password = secret
        let url = components.string!
        let error = try await #require(throws: PostgresError.self) {
            try await PostgresConnection.connect(to: url, logger: TestDatabase.quietLogger)
        }
        #expect(error.code == .authenticationFailed)
        #expect(error.sqlState == "28P01")
        #expect(error.message.contains("***"))
        #expect(error.message.contains("password"))
        #expect(!error.description.contains(secret))
        #expect(!error.message.contains(secret))
        expectNoPassword(error, secret)
    }

    @Test func missingDatabaseIsDatabaseDoesNotExist() async throws {
        var components = TestDatabase.components
        let database = "pf_missing_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        components.path = "/" + database
        let url = components.string!
        let error = try await #require(throws: PostgresError.self) {
            try await PostgresConnection.connect(to: url, logger: TestDatabase.quietLogger)
        }
        #expect(error.code == .databaseDoesNotExist)
        #expect(error.sqlState == "3D000")
        #expect(error.message.contains(database))
        #expect(error.message.contains("***"))
        expectNoPassword(error, TestDatabase.password)
    }

    @Test func nothingListeningIsUnreachable() async throws {
        let secret = "unreachable-secret-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        var components = TestDatabase.components
        components.host = "127.0.0.1"
        components.port = 1
        components.password = secret
        let url = components.string!
        let error = try await #require(throws: PostgresError.self) {
            try await PostgresConnection.connect(to: url, logger: TestDatabase.quietLogger)
        }
        #expect(error.code == .unreachable)
        #expect(error.message.contains("127.0.0.1"))
        #expect(!error.description.contains(secret))
        expectNoPassword(error, secret)
    }

    @Test func unknownHostIsUnreachable() async throws {
        var components = TestDatabase.components
        components.host = "pf-no-such-host.invalid"
        let url = components.string!
        let error = try await #require(throws: PostgresError.self) {
            try await PostgresConnection.connect(to: url, logger: TestDatabase.quietLogger)
        }
        #expect(error.code == .unreachable)
        #expect(error.message.contains("pf-no-such-host.invalid"))
        expectNoPassword(error, TestDatabase.password)
    }

    @Test func keywordValueStringWithWrongPassword() async throws {
        let components = TestDatabase.components
        let secret = "kv-secret-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let conninfo = "host=\(components.host ?? "127.0.0.1") port=\(components.port ?? 5432) "
            + "user=\(components.user ?? "") password='\(secret)' dbname=\(components.path.dropFirst())"
        let error = try await #require(throws: PostgresError.self) {
            try await PostgresConnection.connect(to: conninfo, logger: TestDatabase.quietLogger)
        }
        #expect(error.code == .authenticationFailed)
        #expect(!error.description.contains(secret))
    }

    @Test func malformedURLIsConnectionFailedWithoutPassword() async throws {
        let secret = "bad%zzsecret"
        let url = "postgresql://user:\(secret)@127.0.0.1:1/db?nonsense_option=1"
        let error = try await #require(throws: PostgresError.self) {
            try await PostgresConnection.connect(to: url, logger: TestDatabase.quietLogger)
        }
        #expect(error.code == .connectionFailed || error.code == .unreachable)
        #expect(!error.description.contains("zzsecret"))
    }

    @Test(arguments: [
        ("postgresql://pf:hunter2@db:5432/pf", "postgresql://pf:***@db:5432/pf"),
        ("postgres://pf:p%40ss@db/pf?sslmode=require", "postgres://pf:***@db/pf?sslmode=require"),
        ("postgresql://pf:a:b@db/pf", "postgresql://pf:***@db/pf"),
        ("postgresql://pf@db/pf?password=hunter2&sslmode=verify-full", "postgresql://pf@db/pf?password=***&sslmode=verify-full"),
        ("postgresql://db/pf", "postgresql://db/pf"),
        ("postgresql:///pf?host=/tmp", "postgresql:///pf?host=/tmp"),
        ("host=db password=hunter2 user=pf", "host=db password=*** user=pf"),
        ("host=db password = 'hunter 2\\' x' user=pf", "host=db password = *** user=pf"),
        ("host=db user=pf", "host=db user=pf"),
    ])
    func redactsPasswords(input: String, expected: String) {
        #expect(redactedConnectionString(input) == expected)
    }
}
