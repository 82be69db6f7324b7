import Logging
import Testing
import PersonaForgePostgres

@Suite("Server notices go to the Logger")
struct NoticeTests {
    @Test func noticesAndWarningsReachTheLogger() async throws {
        let capture = LogCapture()
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect(logger: capture.logger)
            try await connection.execute("DO $$ BEGIN RAISE NOTICE 'hello from %', 'test'; END $$")
            try await connection.execute("DO $$ BEGIN RAISE WARNING 'careful' USING HINT = 'be careful'; END $$")
            await connection.close()
        }
        let events = capture.events
        let notice = try #require(events.first { $0.message == "hello from test" })
        #expect(notice.level == .debug)  // chatter: logged at debug
        #expect(notice.metadata["postgres.severity"] == "NOTICE")
        let warning = try #require(events.first { $0.message == "careful" })
        #expect(warning.level == .warning)
        #expect(warning.metadata["postgres.hint"] == "be careful")
    }
}
