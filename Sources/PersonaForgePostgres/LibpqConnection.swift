internal import CLibpq
internal import Logging
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The single owner of a libpq `PGconn`: every C call on the connection goes
/// through here, and `deinit` frees it.
///
/// All methods block. They are only called from ``PostgresConnection``,
/// whose executor runs them on a dedicated thread.
final class LibpqConnection {
    private let handle: OpaquePointer
    /// Kept alive as long as `handle`: libpq holds an unretained pointer to it.
    private let noticeSink: NoticeSink
    /// The connection string with the password masked, for messages.
    let redactedTarget: String
    /// Password values to scrub from every libpq message.
    private let secrets: [String]

    /// Connects (blocking) and installs the notice receiver.
    ///
    /// Keywords listed before `dbname` are defaults that the connection string
    /// overrides; those after it are enforced (libpq applies the last value).
    init(connectionString: String, defaultConnectTimeout: Int, applicationName: String, logger: Logger) throws(PostgresError) {
        let (redacted, secrets) = redactConnectionString(connectionString)
        self.redactedTarget = redacted
        self.secrets = secrets
        try Self.rejectNUL(connectionString, what: "the connection string")

        let parameters: [(String, String)] = [
            ("connect_timeout", String(defaultConnectTimeout)),
            // Notice a dead server or network within about a minute instead of
            // the kernel's two hours (TCP only; the string may override).
            ("keepalives", "1"),
            ("keepalives_idle", "30"),
            ("keepalives_interval", "10"),
            ("keepalives_count", "3"),
            ("fallback_application_name", applicationName),
            ("dbname", connectionString),
            ("client_encoding", "UTF8"),
        ]
        let keywords = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        guard let handle = PQconnectdbParams(keywordPointers, valuePointers, 1) else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection (out of memory)")
        }
        self.handle = handle
        self.noticeSink = NoticeSink(logger: logger)
        PQsetNoticeReceiver(handle, NoticeSink.noticeReceiver, Unmanaged.passUnretained(noticeSink).toOpaque())
        if PQstatus(handle) != CONNECTION_OK {
            throw connectionFailure()
        }
        configureSession()
    }

    /// Session settings every PersonaForge connection runs with, applied again after a
    /// reconnect (a `SET`, not the `options` startup parameter, which PgBouncer refuses).
    ///
    /// `jit = off`: the writer's statements join small staging tables the planner has
    /// no statistics for, so their estimated costs pass `jit_above_cost` and
    /// `jit_optimize_above_cost` once the tables hold a few 10,000 rows; measured on
    /// PostgreSQL 15, compiling one band probe took 345 ms of a 490 ms statement that
    /// runs in about 140 ms without it. Best effort: a server without JIT keeps going.
    static let sessionSettings = "SET jit = off"

    private func configureSession() {
        guard let result = PQexec(handle, Self.sessionSettings) else { return }
        PQclear(result)
    }

    deinit {
        PQfinish(handle)
    }

    /// Whether libpq has given up on the connection.
    var isBroken: Bool { PQstatus(handle) == CONNECTION_BAD }

    /// Whether a transaction block is open (or failed and awaiting ROLLBACK).
    var isInTransactionBlock: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// The server process serving this connection.
    var backendProcessID: Int32 { PQbackendPID(handle) }

    /// Re-establishes a broken connection with the original parameters (blocking).
    func reset() throws(PostgresError) {
        PQreset(handle)
        if PQstatus(handle) != CONNECTION_OK {
            throw connectionFailure()
        }
        configureSession()
    }

    /// Runs one statement with text-format parameters (`PQexecParams`).
    func execute(_ sql: String, _ parameters: [String?]) throws(PostgresError) -> PostgresResult {
        try Self.rejectNUL(sql, what: "the SQL text")
        for (index, parameter) in parameters.enumerated() {
            if let parameter { try Self.rejectNUL(parameter, what: "parameter $\(index + 1)") }
        }
        // The C strings must outlive PQexecParams: freed only after it returns.
        let cParameters = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { cParameters.forEach { free($0) } }
        let pointers = cParameters.map { UnsafePointer($0) }
        let result = pointers.withUnsafeBufferPointer { buffer in
            PQexecParams(handle, sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs SQL text that may hold several statements (`PQexec`, simple query
    /// protocol, no parameters) and returns the last statement's result.
    func executeScript(_ sql: String) throws(PostgresError) -> PostgresResult {
        try Self.rejectNUL(sql, what: "the SQL text")
        return try consume(PQexec(handle, sql))
    }

    /// Runs `COPY ... FROM STDIN` (text format) and streams `rows` to it in
    /// chunks. Rows must already be validated. Returns the number of rows copied.
    func copyIn<Rows: Sequence<[String?]>>(statement: String, rows: Rows, chunkSize: Int) throws(PostgresError) -> Int {
        guard let start = PQexec(handle, statement) else { throw failureWithoutResult() }
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            defer { PQclear(start) }
            if PQresultStatus(start) == PGRES_COMMAND_OK || PQresultStatus(start) == PGRES_TUPLES_OK {
                throw PostgresError(code: .invalidArgument, message: "the COPY statement did not start a COPY FROM STDIN")
            }
            throw failure(from: start)
        }
        PQclear(start)

        var encoder = CopyTextEncoder(chunkSize: chunkSize)
        var sendFailed = false
        for row in rows {
            encoder.append(row)
            if encoder.isChunkFull {
                sendFailed = !send(encoder.bytes)
                encoder.removeAll()
                if sendFailed { break }
            }
        }
        if !sendFailed && !encoder.bytes.isEmpty {
            sendFailed = !send(encoder.bytes)
        }
        let endAccepted = PQputCopyEnd(handle, sendFailed ? "PersonaForge aborted the COPY after a send error" : nil) == 1

        // Drain every result until NULL, or the connection stays busy.
        var copied = 0
        var firstError: PostgresError?
        var stuckInCopy = 0
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK {
                copied = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                // Only possible if PQputCopyEnd could not be sent; do not loop forever.
                stuckInCopy += 1
                if stuckInCopy > 1 {
                    PQclear(result)
                    break
                }
                _ = PQputCopyEnd(handle, "PersonaForge aborted the COPY")
            } else if firstError == nil {
                firstError = failure(from: result)
            }
            PQclear(result)
        }
        if let firstError { throw firstError }
        if sendFailed || !endAccepted || stuckInCopy > 0 { throw failureWithoutResult() }
        return copied
    }

    private func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                PQputCopyData(handle, pointer, Int32(buffer.count)) == 1
            }
        }
    }

    // MARK: Results and errors

    /// Copies a result into Swift values and frees it; throws for error results.
    private func consume(_ result: OpaquePointer?) throws(PostgresError) -> PostgresResult {
        guard let result else { throw failureWithoutResult() }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
            // Leave the connection usable: end the unexpected COPY and drain.
            if status == PGRES_COPY_IN { _ = PQputCopyEnd(handle, "use copy(into:columns:rows:) for COPY") }
            while let extra = PQgetResult(handle) { PQclear(extra) }
            throw PostgresError(
                code: .invalidArgument,
                message: "COPY statements must go through copy(into:columns:rows:), not execute or query"
            )
        }
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY
            || status == PGRES_SINGLE_TUPLE
        else {
            throw failure(from: result)
        }
        return Self.copy(result)
    }

    private static func copy(_ result: OpaquePointer) -> PostgresResult {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(PQfname(result, Int32(column)).map { String(cString: $0) } ?? "?column?")
        }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, Int32(row), Int32(column)))
                    let value = PQgetvalue(result, Int32(row), Int32(column))!
                    values.append(value.withMemoryRebound(to: UInt8.self, capacity: length) {
                        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                    })
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        let tag = String(cString: PQcmdStatus(result))
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(columns: columns, rows: rows, affectedRows: affected, commandTag: tag)
    }

    /// The error for a failed result, classified as a lost connection when
    /// libpq has given up on the connection.
    private func failure(from result: OpaquePointer) -> PostgresError {
        let sqlState = errorField(result, .sqlState)
        let primary = errorField(result, .primaryMessage).map(scrubbed)
            ?? scrubbed(String(cString: PQresultErrorMessage(result))).trimmingNewlines()
        var error = PostgresError(
            code: .statementFailed,
            message: primary,
            sqlState: sqlState,
            serverMessage: primary,
            detail: errorField(result, .detail).map(scrubbed),
            hint: errorField(result, .hint).map(scrubbed),
            constraintName: errorField(result, .constraintName),
            tableName: errorField(result, .tableName),
            columnName: errorField(result, .columnName)
        )
        if isBroken {
            error.code = .connectionLost
            error.message = lostMessage(primary)
        }
        return error
    }

    /// The error when libpq returned no result at all (it could not send).
    private func failureWithoutResult() -> PostgresError {
        let message = scrubbed(String(cString: PQerrorMessage(handle))).trimmingNewlines()
        if isBroken {
            return PostgresError(code: .connectionLost, message: lostMessage(message))
        }
        return PostgresError(code: .statementFailed, message: message.isEmpty ? "libpq returned no result" : message)
    }

    private func lostMessage(_ reason: String) -> String {
        "the connection to PostgreSQL (\(redactedTarget)) was lost while a command ran (\(reason)); "
            + "the command was not retried and may or may not have taken effect. "
            + "The next call on this connection reconnects."
    }

    /// The classified error for a failed connect or reset.
    private func connectionFailure() -> PostgresError {
        let reason = scrubbed(String(cString: PQerrorMessage(handle))).trimmingNewlines()
        let code = classifyConnectionFailure(reason)
        let advice: String
        switch code {
        case .unreachable:
            advice = "Check that PostgreSQL is running and that the host and port in the database URL are right."
        case .authenticationFailed:
            advice = "Check the user name and password in the database URL (and pg_hba.conf on the server)."
        case .databaseDoesNotExist:
            advice = "Create the database (e.g. `createdb`) or fix the database name in the database URL."
        case .tlsFailed:
            advice = tlsAdvice(reason)
        default:
            advice = "Check the database URL and the server's log."
        }
        return PostgresError(
            code: code,
            message: "could not connect to PostgreSQL at \(redactedTarget): \(reason)"
                + (reason.hasSuffix(".") || reason.hasSuffix("?") ? " " : ". ") + advice,
            sqlState: likelySQLState(code: code, message: reason),
            serverMessage: reason
        )
    }

    private func scrubbed(_ text: String) -> String {
        scrub(text, secrets: secrets)
    }

    private static func rejectNUL(_ text: String, what: String) throws(PostgresError) {
        var text = text
        if text.withUTF8({ $0.contains(0) }) {
            throw PostgresError(
                code: .invalidArgument,
                message: "\(what) contains a NUL character (U+0000), which PostgreSQL cannot accept; nothing was sent"
            )
        }
    }
}

/// Classifies libpq's connection error text. libpq does not expose the
/// server's SQLSTATE for a failed connection, so this matches the messages
/// of libpq and of the server (in English, the default `lc_messages`).
func classifyConnectionFailure(_ message: String) -> PostgresError.Code {
    let text = message.lowercased()
    if text.contains("database \"") && text.contains("does not exist") {
        return .databaseDoesNotExist
    }
    let tls = [
        "ssl error", "certificate verify failed", "does not match host name", "root certificate file",
        "server does not support ssl", "ssl connection is required", "no encryption", "sslmode value",
    ]
    if tls.contains(where: { text.contains($0) }) {
        return .tlsFailed
    }
    let authentication = [
        "password authentication failed", "authentication failed", "no password supplied",
        "no pg_hba.conf entry", "role \"", "fe_sendauth",
    ]
    if authentication.contains(where: { text.contains($0) }) {
        return .authenticationFailed
    }
    let unreachable = [
        "connection refused", "could not translate host name", "name or service not known",
        "temporary failure in name resolution", "no such host", "timeout expired", "no route to host",
        "network is unreachable", "no such file or directory", "host is down", "could not connect to server",
    ]
    if unreachable.contains(where: { text.contains($0) }) {
        return .unreachable
    }
    return .connectionFailed
}

/// What to change for a TLS failure, from libpq's message.
func tlsAdvice(_ message: String) -> String {
    let text = message.lowercased()
    if text.contains("does not match host name") {
        return "The server's certificate does not name the host in the database URL: connect with a name the certificate holds "
            + "(host=NAME, with hostaddr=IP if NAME does not resolve), or issue the certificate for that name."
    }
    if text.contains("certificate verify failed") {
        return "The server's certificate is not signed by the CA in sslrootcert: point sslrootcert at the CA certificate that signed it "
            + "(on Kubernetes, the mounted CA Secret)."
    }
    if text.contains("root certificate file") {
        return "sslmode=verify-full needs the CA certificate: set sslrootcert=PATH to a file that exists and is readable."
    }
    if text.contains("no encryption") {
        return "The server's pg_hba.conf admits no unencrypted connection from here: if it requires TLS, add sslmode=verify-full "
            + "and sslrootcert=CA to the database URL; otherwise add a pg_hba.conf entry for this host."
    }
    return "Check sslmode, sslrootcert and the server's TLS settings (ssl, ssl_cert_file, ssl_key_file)."
}

/// The SQLSTATE the server most likely sent for a classified connection
/// failure (libpq keeps only the message text).
private func likelySQLState(code: PostgresError.Code, message: String) -> String? {
    switch code {
    case .databaseDoesNotExist:
        return PostgresError.SQLState.invalidCatalogName
    case .authenticationFailed:
        return message.contains("password authentication failed")
            ? PostgresError.SQLState.invalidPassword : PostgresError.SQLState.invalidAuthorization
    default:
        return nil
    }
}

extension String {
    /// libpq's multi-line message on one line: line breaks (and the tabs
    /// that indent continuation lines) become single spaces, trailing ones go.
    func trimmingNewlines() -> String {
        var output = ""
        output.reserveCapacity(utf8.count)
        var pendingSpace = false
        var sawLineBreak = false
        for character in self {
            if character == "\n" || character == "\r\n" || character == "\r" {
                sawLineBreak = true
                pendingSpace = true
            } else if sawLineBreak && (character == "\t" || character == " ") {
                continue
            } else {
                if pendingSpace && !output.isEmpty { output.append(" ") }
                pendingSpace = false
                sawLineBreak = false
                output.append(character)
            }
        }
        return output
    }
}
