#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress display on standard error, shown only when standard
/// error is a terminal and redrawn at most five times per second.
struct ProgressLine {
    let isEnabled = isatty(2) == 1
    private var lastDraw = 0.0

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    mutating func update(records: Int, duplicates: Int, bytes: Int, totalBytes: Int?, started: Double) {
        guard isEnabled else { return }
        let now = Self.now()
        guard now - lastDraw >= 0.2 else { return }
        lastDraw = now
        draw(records: records, duplicates: duplicates, bytes: bytes, totalBytes: totalBytes, elapsed: now - started)
    }

    func draw(records: Int, duplicates: Int, bytes: Int, totalBytes: Int?, elapsed: Double) {
        var line = "\r"
        if let totalBytes, totalBytes > 0 {
            let fraction = min(1, Double(bytes) / Double(totalBytes))
            let filled = Int(fraction * 30)
            line += "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: 30 - filled) + "] "
            line += "\(Int(fraction * 100))% "
        }
        let rate = elapsed > 0 ? Int(Double(records) / elapsed) : 0
        line += "\(records) records, \(duplicates) duplicates, \(rate) records/s\u{1B}[K"
        Self.writeToStandardError(line)
    }

    func finish() {
        guard isEnabled else { return }
        Self.writeToStandardError("\r\u{1B}[K")
    }

    static func writeToStandardError(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}
