internal import CLibpq
internal import Logging

/// Receives the server's NOTICE / WARNING / INFO messages for one connection
/// and forwards them to a `Logger` instead of libpq's default (stderr).
///
/// libpq calls ``noticeReceiver`` with an unretained pointer to the sink as
/// its context; the owning ``LibpqConnection`` keeps the sink alive for as
/// long as the `PGconn` exists.
final class NoticeSink {
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// The C callback installed with `PQsetNoticeReceiver`.
    static let noticeReceiver: PQnoticeReceiver = { context, result in
        guard let context, let result else { return }
        Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue().receive(result)
    }

    private func receive(_ result: OpaquePointer) {
        let severity = errorField(result, .severityNonLocalized) ?? errorField(result, .severity) ?? "NOTICE"
        let message = errorField(result, .primaryMessage) ?? "(no message)"
        var metadata: Logger.Metadata = ["postgres.severity": "\(severity)"]
        if let sqlState = errorField(result, .sqlState) { metadata["postgres.sqlstate"] = "\(sqlState)" }
        if let detail = errorField(result, .detail) { metadata["postgres.detail"] = "\(detail)" }
        if let hint = errorField(result, .hint) { metadata["postgres.hint"] = "\(hint)" }
        logger.log(level: Self.level(for: severity), "\(message)", metadata: metadata)
    }

    private static func level(for severity: String) -> Logger.Level {
        switch severity {
        case "WARNING": .warning
        // NOTICE is chatter ("relation already exists, skipping"): debug, not the default log.
        case "NOTICE", "INFO", "LOG": .debug
        case let value where value.hasPrefix("DEBUG"): .debug
        default: .info
        }
    }
}
