/// A failure talking to PostgreSQL: what happened, what to do about it, and
/// the server's diagnostics when the server produced the error.
///
/// The ``message`` is written for the person running PersonaForge; it never
/// contains a password (connection strings are shown with
/// ``redactedConnectionString(_:)``).
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, stable enough to branch on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The server could not be reached: connection refused, no such host,
        /// connect timeout, no route.
        public static let unreachable = Code("unreachable")
        /// The server rejected the credentials (SQLSTATE 28P01 / 28000).
        public static let authenticationFailed = Code("authenticationFailed")
        /// The database named in the connection string does not exist (SQLSTATE 3D000).
        public static let databaseDoesNotExist = Code("databaseDoesNotExist")
        /// TLS failed or was refused: the server's certificate is not signed by the CA
        /// in `sslrootcert` or does not name the host, the CA file is missing, or the
        /// client and server disagree on whether to use TLS at all.
        public static let tlsFailed = Code("tlsFailed")
        /// Connecting failed for another reason (bad connection string, too many clients, ...).
        public static let connectionFailed = Code("connectionFailed")
        /// The connection broke while a command ran. The command was not retried;
        /// the next call on the connection reconnects.
        public static let connectionLost = Code("connectionLost")
        /// The connection was closed with ``PostgresConnection/close()``.
        public static let connectionClosed = Code("connectionClosed")
        /// The server rejected a statement; see ``PostgresError/sqlState``.
        public static let statementFailed = Code("statementFailed")
        /// The caller passed something PostgreSQL cannot accept (a NUL character,
        /// a row with the wrong number of fields, a nested transaction); nothing was sent.
        public static let invalidArgument = Code("invalidArgument")
        /// A schema migration could not be applied or the migration list is inconsistent.
        public static let migrationFailed = Code("migrationFailed")

        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do, for a person.
    public var message: String
    /// The five-character SQLSTATE when the server reported one (e.g. `23505`).
    public var sqlState: String?
    /// The server's primary message, when the server reported the error.
    public var serverMessage: String?
    /// The server's optional detail line.
    public var detail: String?
    /// The server's optional hint.
    public var hint: String?
    /// The constraint that was violated, when the error concerns one.
    public var constraintName: String?
    /// The table the error concerns, when the server named one.
    public var tableName: String?
    /// The column the error concerns, when the server named one.
    public var columnName: String?

    /// Creates an error.
    public init(
        code: Code,
        message: String,
        sqlState: String? = nil,
        serverMessage: String? = nil,
        detail: String? = nil,
        hint: String? = nil,
        constraintName: String? = nil,
        tableName: String? = nil,
        columnName: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.serverMessage = serverMessage
        self.detail = detail
        self.hint = hint
        self.constraintName = constraintName
        self.tableName = tableName
        self.columnName = columnName
    }

    /// One line (plus detail and hint) for logs and terminals.
    public var description: String {
        var text = "PostgreSQL error (\(code)"
        if let sqlState { text += ", SQLSTATE \(sqlState)" }
        text += "): \(message)"
        if let detail { text += " DETAIL: \(detail)" }
        if let hint { text += " HINT: \(hint)" }
        return text
    }
}

extension PostgresError {
    /// SQLSTATE values PersonaForge branches on.
    public enum SQLState {
        /// `unique_violation`: a row with the same key already exists.
        public static let uniqueViolation = "23505"
        /// `foreign_key_violation`.
        public static let foreignKeyViolation = "23503"
        /// `serialization_failure`: retry the transaction.
        public static let serializationFailure = "40001"
        /// `deadlock_detected`: retry the transaction.
        public static let deadlockDetected = "40P01"
        /// `invalid_password`.
        public static let invalidPassword = "28P01"
        /// `invalid_authorization_specification`.
        public static let invalidAuthorization = "28000"
        /// `invalid_catalog_name`: the database does not exist.
        public static let invalidCatalogName = "3D000"
        /// `admin_shutdown`: the backend was terminated.
        public static let adminShutdown = "57P01"
    }

    /// Whether the error is a unique-key violation (SQLSTATE 23505).
    public var isUniqueViolation: Bool { sqlState == SQLState.uniqueViolation }
}
