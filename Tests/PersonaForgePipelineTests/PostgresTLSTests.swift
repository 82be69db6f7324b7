import Foundation
import Logging
import PersonaForgePostgres
import PersonaForgeTestSupport
import Testing

/// `sslmode=verify-full` against a private PostgreSQL that accepts only TLS, with a
/// CA and a server certificate for `localhost` made at test time
/// (docs/operations.md, "PostgreSQL over TLS"). libpq does the TLS; these tests
/// show that the URLs PersonaForge documents work and that every way of getting
/// them wrong is a clear, classified error without the password in it.
@Suite(.serialized) struct PostgresTLSTests {
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test func verifyFullWithTheRightCAConnectsOverTLS() async throws {
        let server = try await PostgresServerProcess()
        let connection = try await PostgresConnection.connect(
            to: server.connectionString("host=localhost hostaddr=127.0.0.1 sslmode=verify-full sslrootcert=\(server.certificateAuthority)"),
            logger: Self.quiet
        )
        let row = try await connection.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")[0]
        #expect(row["ssl"].bool == true)
        #expect(row["version"].string?.hasPrefix("TLSv1.") == true, "\(row["version"].string ?? "nil")")
        await connection.close()
    }

    @Test(arguments: [
        ("another CA", "host=localhost hostaddr=127.0.0.1 sslmode=verify-full sslrootcert=OTHER", "certificate verify failed", "not signed by the CA in sslrootcert"),
        ("a host name the certificate does not hold", "host=127.0.0.1 sslmode=verify-full sslrootcert=CA", "does not match host name \"127.0.0.1\"", "does not name the host"),
        ("no CA file", "host=localhost hostaddr=127.0.0.1 sslmode=verify-full sslrootcert=/nonexistent/ca.crt", "root certificate file \"/nonexistent/ca.crt\" does not exist", "set sslrootcert=PATH"),
        ("no TLS at all", "host=localhost hostaddr=127.0.0.1 sslmode=disable", "no encryption", "if it requires TLS, add sslmode=verify-full"),
    ])
    func aConnectionThatCannotBeVerifiedFailsClearly(label: String, options: String, reason: String, advice: String) async throws {
        let server = try await PostgresServerProcess()
        let options = options.replacingOccurrences(of: "OTHER", with: server.otherCertificateAuthority)
            .replacingOccurrences(of: "=CA", with: "=\(server.certificateAuthority)")
        await #expect {
            _ = try await PostgresConnection.connect(to: server.connectionString(options), logger: Self.quiet)
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.code == .tlsFailed && error.message.contains(reason) && error.message.contains(advice)
                && !error.message.contains(server.password)
        }
    }

    @Test func doctorAndMigrateWorkThroughVerifyFullAndDoctorExplainsAWrongCA() async throws {
        let server = try await PostgresServerProcess()
        let harness = try PipelineHarness(llm: nil)
        let url = "postgresql://postgres:\(server.password)@localhost:\(server.port)/postgres?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert="
        let good = ["PERSONAFORGE_DATABASE_URL": url + server.certificateAuthority]

        let migrate = try await harness.run(["migrate"], environment: good)
        #expect(migrate.status == 0, "\(migrate.output)")
        let doctor = try await harness.run(["doctor", "--only", "postgres"], environment: good)
        #expect(doctor.status == 0, "\(doctor.output)")
        #expect(doctor.output.contains("connected as postgres to database postgres"), "\(doctor.output)")
        #expect(doctor.output.contains("schema up to date"), "\(doctor.output)")
        #expect(!doctor.output.contains(server.password))

        let wrong = try await harness.run(["doctor", "--only", "postgres"], environment: ["PERSONAFORGE_DATABASE_URL": url + server.otherCertificateAuthority])
        #expect(wrong.status == 1, "\(wrong.output)")
        #expect(wrong.output.contains("certificate verify failed"), "\(wrong.output)")
        #expect(wrong.output.contains("fix sslmode / sslrootcert / the host name in PERSONAFORGE_DATABASE_URL"), "\(wrong.output)")
        #expect(!wrong.output.contains(server.password))
    }
}
