public import Logging
internal import PersonaForgeSupport

/// One connection to PostgreSQL over libpq.
///
/// The actor runs on its own ``ThreadExecutor``, so every blocking libpq call
/// (connect, query, COPY, reconnect) happens on a dedicated thread and never on
/// Swift's shared pool.
///
/// ```swift
/// let connection = try await PostgresConnection.connect(to: url, logger: logger)
/// try await connection.execute("UPDATE runs SET state = $1 WHERE id = $2", ["paused", runID])
/// let rows = try await connection.query("SELECT id FROM runs WHERE state = $1", ["running"])
/// ```
///
/// ## Connection strings
/// Anything libpq accepts: a URI (`postgresql://user:pass@host:5432/db?sslmode=require`)
/// or key/value pairs (`host=db dbname=pf`). libpq parses it, so `sslmode`,
/// `options`, `application_name` etc. are honoured. A `connect_timeout` of
/// ``defaultConnectTimeout`` seconds applies unless the string sets one, and
/// so do TCP keepalives (idle 30 s, interval 10 s, 3 probes) so that a dead
/// server is noticed within about a minute. `client_encoding` is always UTF8.
///
/// ## Lost connections
/// A command that fails because the connection broke (server restart,
/// `pg_terminate_backend`, network) throws ``PostgresError/Code/connectionLost``
/// and is **not** retried: it may or may not have taken effect. The **next**
/// call on the connection reconnects first (`PQreset`, with the original
/// parameters) and runs normally; if reconnecting fails, that call throws the
/// classified connection error and the one after tries again. An open
/// transaction does not survive a lost connection.
///
/// ## Notices
/// Server NOTICE / WARNING / INFO messages go to the `Logger` given at connect.
public actor PostgresConnection {
    /// The connect timeout, in seconds, used when the connection string sets none.
    public static let defaultConnectTimeout = 5

    /// The logger notices and connection events go to.
    public nonisolated let logger: Logger
    /// The connection string with the password masked (see ``redactedConnectionString(_:)``).
    public nonisolated let redactedTarget: String

    private let executor: ThreadExecutor
    private let connectionString: String
    private let connectTimeout: Int
    private let applicationName: String
    private var libpq: LibpqConnection?
    private var isClosed = false
    private var isInTransaction = false

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    private init(connectionString: String, logger: Logger, connectTimeout: Int, applicationName: String) {
        self.connectionString = connectionString
        self.logger = logger
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
        self.redactedTarget = redactedConnectionString(connectionString)
        self.executor = ThreadExecutor(name: "postgres")
    }

    deinit {
        // `libpq` is released with the actor, which frees the PGconn.
        executor.shutdown()
    }

    /// Connects to PostgreSQL.
    ///
    /// - Parameters:
    ///   - connectionString: A libpq URI or key/value connection string.
    ///   - logger: Receives server notices and connection events.
    ///   - connectTimeout: Seconds to wait for the server when the string sets no `connect_timeout`.
    ///   - applicationName: Shown in `pg_stat_activity` unless the string sets `application_name`.
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/unreachable``,
    ///   ``PostgresError/Code/authenticationFailed``,
    ///   ``PostgresError/Code/databaseDoesNotExist`` or
    ///   ``PostgresError/Code/connectionFailed``. The message never contains the password.
    public static func connect(
        to connectionString: String,
        logger: Logger,
        connectTimeout: Int = defaultConnectTimeout,
        applicationName: String = "personaforge"
    ) async throws -> PostgresConnection {
        let connection = PostgresConnection(
            connectionString: connectionString,
            logger: logger,
            connectTimeout: connectTimeout,
            applicationName: applicationName
        )
        try await connection.open()
        return connection
    }

    private func open() throws(PostgresError) {
        libpq = try LibpqConnection(
            connectionString: connectionString,
            defaultConnectTimeout: connectTimeout,
            applicationName: applicationName,
            logger: logger
        )
        logger.debug("connected to PostgreSQL", metadata: ["postgres.target": "\(redactedTarget)"])
    }

    /// Closes the connection. Later calls throw ``PostgresError/Code/connectionClosed``.
    public func close() {
        libpq = nil
        isClosed = true
    }

    /// The server process id of the current session (changes after a reconnect).
    public func backendProcessID() throws -> Int32 {
        try usableConnection().backendProcessID
    }

    // MARK: Statements

    /// Runs one statement and returns the number of rows it affected.
    ///
    /// Parameters are sent separately from the SQL (`$1`, `$2`, …) in text
    /// format; nil is SQL NULL. Text in a parameter is never interpreted as SQL.
    ///
    /// - Throws: ``PostgresError`` carrying the server's SQLSTATE, detail, hint
    ///   and constraint name.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> Int {
        try usableConnection().execute(sql, parameters).affectedRows
    }

    /// Runs one statement and returns its rows, copied into Swift values.
    ///
    /// - Throws: ``PostgresError`` carrying the server's SQLSTATE and diagnostics.
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> PostgresResult {
        try usableConnection().execute(sql, parameters)
    }

    /// Runs SQL text that may contain several statements separated by `;`
    /// (the simple query protocol; no parameters) and returns the result of the
    /// last one. Used for migrations and DDL.
    @discardableResult
    public func executeScript(_ sql: String) throws -> PostgresResult {
        try usableConnection().executeScript(sql)
    }

    // MARK: Transactions

    /// Runs `body` inside `BEGIN` … `COMMIT`, rolling back if it throws.
    ///
    /// The body is synchronous and isolated to this connection, so no other
    /// call on the connection can interleave with the transaction (an `async`
    /// body could suspend and let another caller's statements run inside it).
    /// It is `@Sendable` because it is handed to the connection's thread;
    /// prepare the data first and capture it. Run it from outside with `await`:
    ///
    /// ```swift
    /// try await connection.transaction { connection in
    ///     try connection.execute("INSERT INTO runs (id, name) VALUES ($1, $2)", [id, name])
    ///     try connection.copy(into: "records", columns: columns, rows: rows)
    /// }
    /// ```
    ///
    /// If a statement inside failed but its error was swallowed, the server
    /// turns `COMMIT` into a rollback; this method then throws instead of
    /// pretending the transaction committed.
    ///
    /// - Throws: ``PostgresError/Code/invalidArgument`` for a nested call, any
    ///   error thrown by `body` (after rolling back), or the error of `COMMIT`.
    public func transaction<Value: Sendable>(
        _ body: @Sendable (isolated PostgresConnection) throws -> Value
    ) throws -> Value {
        guard !isInTransaction else {
            throw PostgresError(
                code: .invalidArgument,
                message: "transaction(_:) was called inside another transaction on the same connection; "
                    + "run the inner statements directly in the outer body"
            )
        }
        let connection = try usableConnection()
        _ = try connection.execute("BEGIN", [])
        isInTransaction = true
        defer { isInTransaction = false }
        let value: Value
        do {
            value = try body(self)
        } catch {
            if !connection.isBroken && connection.isInTransactionBlock {
                do {
                    _ = try connection.execute("ROLLBACK", [])
                } catch let rollbackError {
                    logger.warning("ROLLBACK failed", metadata: ["error": "\(rollbackError)"])
                }
            }
            throw error
        }
        let commit = try connection.execute("COMMIT", [])
        if commit.commandTag == "ROLLBACK" {
            throw PostgresError(
                code: .statementFailed,
                message: "the transaction was rolled back because a statement inside it failed "
                    + "(its error was caught inside the transaction body); nothing was committed"
            )
        }
        return value
    }

    // MARK: COPY

    /// Copies `rows` into `table` with `COPY … FROM STDIN` in text format and
    /// returns the number of rows copied.
    ///
    /// Every row is checked first: a row with the wrong number of fields or a
    /// field containing NUL (U+0000, which PostgreSQL text cannot hold) throws
    /// ``PostgresError/Code/invalidArgument`` before anything is sent. Fields
    /// are then escaped over their UTF-8 bytes (`\\`, `\t`, `\n`, `\r`; nil is
    /// `\N`) and sent in chunks of `chunkSize` bytes. COPY is one statement:
    /// if the server rejects any row, no row is inserted.
    ///
    /// `rows` is traversed twice (check, then send), so a lazy collection
    /// computes its rows twice; nothing is held in memory beyond one chunk.
    ///
    /// - Parameters:
    ///   - table: The table, optionally schema-qualified (`schema.table`); each
    ///     part is quoted as an identifier.
    ///   - columns: The columns each row gives values for, in order.
    ///   - rows: The rows; each has one text value (nil = NULL) per column.
    ///   - chunkSize: Bytes buffered per `PQputCopyData` call.
    @discardableResult
    public func copy(
        into table: String,
        columns: [String],
        rows: some Collection<[String?]>,
        chunkSize: Int = 256 * 1024
    ) throws -> Int {
        guard !columns.isEmpty else {
            throw PostgresError(code: .invalidArgument, message: "copy(into:columns:rows:) needs at least one column")
        }
        for (index, row) in rows.enumerated() {
            try CopyTextEncoder.validate(row, columnCount: columns.count, rowNumber: index + 1)
        }
        let tableName = table.split(separator: ".", omittingEmptySubsequences: false)
            .map { quotedIdentifier(String($0)) }
            .joined(separator: ".")
        let columnList = columns.map(quotedIdentifier).joined(separator: ", ")
        let statement = "COPY \(tableName) (\(columnList)) FROM STDIN"
        return try usableConnection().copyIn(statement: statement, rows: rows, chunkSize: max(chunkSize, 1))
    }

    // MARK: Connection state

    /// The live libpq connection, reconnecting first if the previous call
    /// left it broken.
    private func usableConnection() throws(PostgresError) -> LibpqConnection {
        guard let libpq, !isClosed else {
            throw PostgresError(
                code: .connectionClosed,
                message: "the PostgreSQL connection to \(redactedTarget) was closed; open a new one"
            )
        }
        if libpq.isBroken {
            if isInTransaction {
                throw PostgresError(
                    code: .connectionLost,
                    message: "the connection to PostgreSQL (\(redactedTarget)) was lost inside a transaction; "
                        + "the transaction was rolled back by the server"
                )
            }
            logger.info("reconnecting to PostgreSQL", metadata: ["postgres.target": "\(redactedTarget)"])
            try libpq.reset()
            logger.info("reconnected to PostgreSQL", metadata: ["postgres.target": "\(redactedTarget)"])
        }
        return libpq
    }
}

/// `name` quoted as an SQL identifier (`"` doubled).
func quotedIdentifier(_ name: String) -> String {
    "\"" + name.replacing("\"", with: "\"\"") + "\""
}
