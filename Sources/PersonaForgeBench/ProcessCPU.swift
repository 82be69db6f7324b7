import Foundation

/// CPU seconds of processes, read from /proc (Linux): what each role of a run costs.
enum ProcessCPU {
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// utime + stime of `pid` (and, with `children`, of its reaped children), in seconds;
    /// nil when the process is gone.
    static func seconds(of pid: pid_t, children: Bool = false) -> Double? {
        guard let fields = statFields(pid) else { return nil }
        // Fields after the command: index 0 is field 3 (state); utime is field 14.
        let utime = Double(fields[11]) ?? 0
        let stime = Double(fields[12]) ?? 0
        var total = utime + stime
        if children { total += (Double(fields[13]) ?? 0) + (Double(fields[14]) ?? 0) }
        return total / ticksPerSecond
    }

    /// Resident set size of `pid` in bytes.
    static func residentBytes(of pid: pid_t) -> Int? {
        guard let fields = statFields(pid), let pages = Int(fields[21]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The fields after `(comm)` of /proc/PID/stat.
    private static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 21 ? fields : nil
    }

    /// The parent process id of `pid`.
    static func parent(of pid: pid_t) -> pid_t? {
        statFields(pid).flatMap { pid_t($0[1]) }
    }

    /// CPU seconds of a server process tree: `root` with its reaped children, and its
    /// live children (a PostgreSQL postmaster and its backends and background workers,
    /// and not another PostgreSQL server's processes on the same machine).
    static func seconds(ofTree root: pid_t) -> Double {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
        var total = seconds(of: root, children: true) ?? 0
        for entry in entries {
            guard let pid = pid_t(entry), pid != root, parent(of: pid) == root else { continue }
            total += seconds(of: pid, children: true) ?? 0
        }
        return total
    }
}
