import Foundation
import Logging

/// Collects log events so that tests can assert on them.
final class LogCapture: @unchecked Sendable {
    // @unchecked Sendable: `entries` is only touched with `lock` held.
    private let lock = NSLock()
    private var entries: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] = []

    /// A logger whose events land in this capture.
    var logger: Logger {
        Logger(label: "personaforge.tests.capture") { _ in CapturingLogHandler(capture: self) }
    }

    func append(level: Logger.Level, message: String, metadata: Logger.Metadata) {
        lock.withLock { entries.append((level, message, metadata)) }
    }

    /// Everything logged so far.
    var events: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] {
        lock.withLock { entries }
    }
}

/// A `LogHandler` that forwards to a ``LogCapture``.
struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        capture.append(
            level: event.level,
            message: event.message.description,
            metadata: metadata.merging(event.metadata ?? [:]) { $1 }
        )
    }
}
