import Testing
@testable import PersonaForgePostgres

/// Field values chosen to break a naive COPY encoder.
let hostileValues: [String?] = [
    "plain",
    "tab\there",
    "new\nline",
    "carriage\rreturn and CRLF\r\n",
    "back\\slash",
    "\\N",                 // the four characters, not NULL
    nil,                   // real NULL
    "",                    // empty string, not NULL
    "\\.",                 // COPY's end-of-data marker on its own
    "\\.\n\\.",
    "\\\\t already escaped-looking \\n",
    "\u{7}\u{8}\u{B}\u{C} other controls",
    "emoji 🧪👩‍👩‍👧 flags 🇫🇷",
    "combining e\u{301} vs precomposed \u{E9}",
    "quotes \" ' , ; and trailing spaces   ",
    String(repeating: "long\t\\line\n", count: 50_000) + "end",
]

@Suite("COPY FROM STDIN in text format")
struct CopyTests {
    @Test func hostileTextRoundTripsExactly() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await connection.execute("CREATE TABLE texts (id integer PRIMARY KEY, body text, extra text)")
            let rows: [[String?]] = hostileValues.enumerated().map { index, value in
                [String(index), value, value.map { "x\t" + $0 }]
            }
            let copied = try await connection.copy(into: "texts", columns: ["id", "body", "extra"], rows: rows)
            #expect(copied == hostileValues.count)

            let result = try await connection.query("SELECT id, body, extra FROM texts ORDER BY id")
            #expect(result.count == hostileValues.count)
            for (row, expected) in zip(result, hostileValues) {
                // Compare bytes: Swift's == treats canonically equivalent strings as equal.
                #expect(row["body"].string.map { Array($0.utf8) } == expected.map { Array($0.utf8) })
                #expect(row["extra"].string.map { Array($0.utf8) } == expected.map { Array(("x\t" + $0).utf8) })
                #expect(row["body"].isNull == (expected == nil))
            }
            let nulls = try await connection.query("SELECT count(*) AS n FROM texts WHERE body IS NULL")
            #expect(nulls.first?["n"].int == 1)
            await connection.close()
        }
    }

    @Test func nulIsRejectedBeforeAnythingIsSent() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await connection.execute("CREATE TABLE texts (id integer, body text)")
            let rows: [[String?]] = [["1", "fine"], ["2", "also fine"], ["3", "nul \u{0} inside"], ["4", "after"]]
            let error = try await #require(throws: PostgresError.self) {
                try await connection.copy(into: "texts", columns: ["id", "body"], rows: rows)
            }
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("NUL"))
            #expect(error.message.contains("row 3"))
            #expect(error.message.contains("nothing was sent"))
            #expect(try await connection.query("SELECT count(*) AS n FROM texts").first?["n"].int == 0)
            await connection.close()
        }
    }

    @Test func wrongFieldCountIsRejected() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await connection.execute("CREATE TABLE texts (id integer, body text)")
            let error = try await #require(throws: PostgresError.self) {
                try await connection.copy(into: "texts", columns: ["id", "body"], rows: [["1", "a"], ["2"]])
            }
            #expect(error.code == .invalidArgument)
            #expect(try await connection.query("SELECT count(*) AS n FROM texts").first?["n"].int == 0)
            await connection.close()
        }
    }

    @Test func serverErrorDuringCopyCarriesSQLStateAndInsertsNothing() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await connection.execute("CREATE TABLE keyed (id integer CONSTRAINT keyed_pkey PRIMARY KEY)")
            let error = try await #require(throws: PostgresError.self) {
                try await connection.copy(into: "keyed", columns: ["id"], rows: [["1"], ["2"], ["1"]])
            }
            #expect(error.sqlState == "23505")
            #expect(error.constraintName == "keyed_pkey")
            #expect(try await connection.query("SELECT count(*) AS n FROM keyed").first?["n"].int == 0)
            // Bad data (text into integer) also surfaces with its SQLSTATE.
            let invalid = try await #require(throws: PostgresError.self) {
                try await connection.copy(into: "keyed", columns: ["id"], rows: [["not a number"]])
            }
            #expect(invalid.sqlState == "22P02")
            // The connection is usable afterwards.
            #expect(try await connection.copy(into: "keyed", columns: ["id"], rows: [["7"]]) == 1)
            await connection.close()
        }
    }

    @Test func copyInsideTransactionRollsBack() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await connection.execute("CREATE TABLE t (n integer)")
            await #expect(throws: ExpectedFailure.self) {
                try await connection.transaction { connection in
                    try connection.copy(into: "t", columns: ["n"], rows: [["1"], ["2"]])
                    throw ExpectedFailure()
                }
            }
            #expect(try await connection.query("SELECT count(*) AS n FROM t").first?["n"].int == 0)
            await connection.close()
        }
    }

    @Test func hundredThousandRows() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await connection.execute(
                "CREATE TABLE bulk (id bigint PRIMARY KEY, body text NOT NULL, note text)"
            )
            let count = 100_000
            let rows = (0..<count).lazy.map { index -> [String?] in
                [String(index), "row \(index)\twith tab\\and backslash\nand newline", index % 7 == 0 ? nil : "n\(index)"]
            }
            // A small chunk size exercises many PQputCopyData calls.
            let copied = try await connection.copy(
                into: "\(schema.name).bulk", columns: ["id", "body", "note"], rows: rows, chunkSize: 64 * 1024
            )
            #expect(copied == count)
            let summary = try #require(try await connection.query(
                "SELECT count(*) AS n, sum(id) AS total, count(note) AS notes FROM bulk"
            ).first)
            #expect(summary["n"].int == count)
            #expect(summary["total"].int64 == Int64(count) * Int64(count - 1) / 2)
            #expect(summary["notes"].int == count - (count + 6) / 7)
            let sample = try #require(try await connection.query("SELECT body, note FROM bulk WHERE id = $1", ["99999"]).first)
            #expect(sample["body"].string == "row 99999\twith tab\\and backslash\nand newline")
            #expect(sample["note"].string == "n99999")
            await connection.close()
        }
    }

    @Test(arguments: [
        ([["a", nil]], "a\t\\N\n"),
        ([["\\N", ""]], "\\\\N\t\n"),
        ([["t\tn\nr\rb\\"]], "t\\tn\\nr\\rb\\\\\n"),
        ([["é🧪"], ["x"]], "é🧪\nx\n"),
    ] as [([[String?]], String)])
    func encoderEscapesOverUTF8Bytes(rows: [[String?]], expected: String) throws {
        var encoder = CopyTextEncoder(chunkSize: 1024)
        for row in rows { encoder.append(row) }
        #expect(encoder.bytes == Array(expected.utf8))
    }
}
