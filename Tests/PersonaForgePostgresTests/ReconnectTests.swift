import Testing
import PersonaForgePostgres

@Suite("Reconnect after the backend is terminated")
struct ReconnectTests {
    /// Semantics: the call that hits the dead connection fails with
    /// `.connectionLost` and is not retried; the next call reconnects.
    @Test func nextCallReconnectsAfterTerminatedBackend() async throws {
        let capture = LogCapture()
        try await TestDatabase.withSchema { schema in
            let victim = try await schema.connect(logger: capture.logger)
            let killer = try await schema.connect()
            try await victim.execute("CREATE TABLE t (n integer)")
            let oldPID = try await victim.backendProcessID()
            #expect(try await victim.query("SELECT pg_backend_pid() AS pid").first?["pid"].int64 == Int64(oldPID))

            // The two-argument form waits until the backend is gone.
            let terminated = try await killer.query("SELECT pg_terminate_backend($1::integer, 5000) AS ok", [String(oldPID)])
            #expect(terminated.first?["ok"].bool == true)

            // The in-flight statement fails and is not silently retried.
            let error = try await #require(throws: PostgresError.self) {
                try await victim.execute("INSERT INTO t VALUES (1)")
            }
            #expect(error.code == .connectionLost)
            #expect(error.message.contains("not retried"))

            // The next call reconnects; search_path (from the URL) survives.
            let count = try await victim.query("SELECT count(*) AS n FROM t")
            #expect(count.first?["n"].int == 0)
            let newPID = try await victim.backendProcessID()
            #expect(newPID != oldPID)
            #expect(capture.events.contains { $0.message == "reconnected to PostgreSQL" })
            await victim.close()
            await killer.close()
        }
    }

    /// JIT compilation cost more than the writer's statements themselves (hundreds of
    /// ms per batch once tables grow): every connection turns it off, also after a
    /// reconnect, whatever the server's default.
    @Test func jitIsOffInEverySessionAlsoAfterAReconnect() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            let killer = try await schema.connect()
            // The server's own default is on (PostgreSQL 11 and later): the setting is ours.
            #expect(try await killer.query("SELECT reset_val FROM pg_settings WHERE name = 'jit'").first?["reset_val"].string == "on")
            #expect(try await connection.query("SHOW jit").first?["jit"].string == "off")
            let oldPID = try await connection.backendProcessID()
            _ = try await killer.query("SELECT pg_terminate_backend($1::integer, 5000) AS ok", [String(oldPID)])
            _ = try? await connection.execute("SELECT 1")
            #expect(try await connection.query("SHOW jit").first?["jit"].string == "off")
            #expect(try await connection.backendProcessID() != oldPID)
            await connection.close()
            await killer.close()
        }
    }
}
