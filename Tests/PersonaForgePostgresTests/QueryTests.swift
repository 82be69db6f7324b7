import Testing
import PersonaForgePostgres

struct ExpectedFailure: Error {}

@Suite("Queries, parameters, errors and transactions")
struct QueryTests {
    @Test func parametersCarryNullAndInjectionLookingText() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await connection.execute("CREATE TABLE students (id integer PRIMARY KEY, name text)")
            let hostile = "Robert'); DROP TABLE students;-- $1 \\ \" ''"
            let inserted = try await connection.execute(
                "INSERT INTO students (id, name) VALUES ($1, $2), ($3, $4)",
                ["1", hostile, "2", nil]
            )
            #expect(inserted == 2)

            let rows = try await connection.query("SELECT id, name FROM students ORDER BY id")
            #expect(rows.columns == ["id", "name"])
            #expect(rows.count == 2)
            #expect(rows[0]["id"].int64 == 1)
            #expect(rows[0]["name"].string == hostile)
            #expect(rows[1]["name"].isNull)
            #expect(rows[1]["name"].string == nil)

            let isNull = try await connection.query("SELECT $1::text IS NULL AS is_null, $2::text AS echoed", [nil, hostile])
            #expect(isNull.first?["is_null"].bool == true)
            #expect(isNull.first?["echoed"].string == hostile)

            let matched = try await connection.query("SELECT count(*) AS n FROM students WHERE name = $1", [hostile])
            #expect(matched.first?["n"].int == 1)
            await connection.close()
        }
    }

    @Test func typedAccessors() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            let row = try #require(try await connection.query(
                """
                SELECT 9223372036854775807::bigint AS big, true AS yes, false AS no, 2.5::float8 AS half,
                       'hé'::text AS text, NULL::int AS missing, '\\x00ff10'::bytea AS blob
                """
            ).first)
            #expect(row["big"].int64 == Int64.max)
            #expect(row["yes"].bool == true)
            #expect(row["no"].bool == false)
            #expect(row["half"].double == 2.5)
            #expect(row["text"].string == "hé")
            #expect(row["missing"].int64 == nil)
            #expect(row["blob"].bytes == [0x00, 0xFF, 0x10])
            #expect(row.cell(named: "absent") == nil)
            #expect(row[0].int64 == Int64.max)
            await connection.close()
        }
    }

    @Test func affectedRowsAndCommandTag() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await connection.execute("CREATE TABLE t (n integer)")
            #expect(try await connection.execute("INSERT INTO t SELECT generate_series(1, 5)") == 5)
            #expect(try await connection.execute("UPDATE t SET n = n + 1 WHERE n > 2") == 3)
            let deleted = try await connection.query("DELETE FROM t WHERE n > 4")
            // 1 2 3 4 5 became 1 2 4 5 6: two rows are above 4.
            #expect(deleted.affectedRows == 2)
            #expect(deleted.commandTag == "DELETE 2")
            await connection.close()
        }
    }

    @Test func uniqueViolationCarriesSQLStateAndConstraint() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await connection.execute(
                "CREATE TABLE items (id integer PRIMARY KEY, name text CONSTRAINT items_name_key UNIQUE)"
            )
            try await connection.execute("INSERT INTO items VALUES (1, 'a')")
            let error = try await #require(throws: PostgresError.self) {
                try await connection.execute("INSERT INTO items VALUES ($1, $2)", ["2", "a"])
            }
            #expect(error.code == .statementFailed)
            #expect(error.sqlState == "23505")
            #expect(error.isUniqueViolation)
            #expect(error.constraintName == "items_name_key")
            #expect(error.tableName == "items")
            #expect(error.detail?.contains("(name)=(a)") == true)
            #expect(error.description.contains("23505"))
            // The connection stays usable after a statement error.
            #expect(try await connection.query("SELECT count(*) AS n FROM items").first?["n"].int == 1)
            await connection.close()
        }
    }

    @Test func syntaxErrorCarriesSQLState() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            let error = try await #require(throws: PostgresError.self) {
                try await connection.query("SELEC 1")
            }
            #expect(error.sqlState == "42601")
            #expect(error.message.contains("syntax error"))
            await connection.close()
        }
    }

    @Test func nulInParameterIsRejectedBeforeSending() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            let error = try await #require(throws: PostgresError.self) {
                try await connection.query("SELECT $1::text", ["a\u{0}b"])
            }
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("NUL"))
            await connection.close()
        }
    }

    @Test func transactionRollsBackWhenBodyThrows() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await connection.execute("CREATE TABLE t (n integer PRIMARY KEY)")
            await #expect(throws: ExpectedFailure.self) {
                try await connection.transaction { connection in
                    try connection.execute("INSERT INTO t VALUES (1), (2)")
                    throw ExpectedFailure()
                }
            }
            // A failing statement inside rolls back the earlier ones too.
            let error = try await #require(throws: PostgresError.self) {
                try await connection.transaction { connection in
                    try connection.execute("INSERT INTO t VALUES (3)")
                    try connection.execute("INSERT INTO t VALUES (3)")
                }
            }
            #expect(error.sqlState == "23505")
            #expect(try await connection.query("SELECT count(*) AS n FROM t").first?["n"].int == 0)

            let committed = try await connection.transaction { connection in
                try connection.execute("INSERT INTO t VALUES (10), (11)")
            }
            #expect(committed == 2)
            #expect(try await connection.query("SELECT count(*) AS n FROM t").first?["n"].int == 2)
            await connection.close()
        }
    }

    @Test func swallowedErrorInsideTransactionDoesNotPretendToCommit() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await connection.execute("CREATE TABLE t (n integer PRIMARY KEY)")
            let error = try await #require(throws: PostgresError.self) {
                try await connection.transaction { connection in
                    try connection.execute("INSERT INTO t VALUES (1)")
                    _ = try? connection.execute("INSERT INTO t VALUES (1)")
                }
            }
            #expect(error.message.contains("rolled back"))
            #expect(try await connection.query("SELECT count(*) AS n FROM t").first?["n"].int == 0)
            await connection.close()
        }
    }

    @Test func nestedTransactionIsRejected() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            let error = try await #require(throws: PostgresError.self) {
                try await connection.transaction { connection in
                    try connection.transaction { _ in 1 }
                }
            }
            #expect(error.code == .invalidArgument)
            // The outer transaction was rolled back and the connection is usable.
            #expect(try await connection.query("SELECT 1 AS one").first?["one"].int == 1)
            await connection.close()
        }
    }

    @Test func closedConnectionThrows() async throws {
        let connection = try await PostgresConnection.connect(to: TestDatabase.url, logger: TestDatabase.quietLogger)
        await connection.close()
        let error = try await #require(throws: PostgresError.self) {
            try await connection.query("SELECT 1")
        }
        #expect(error.code == .connectionClosed)
    }
}
