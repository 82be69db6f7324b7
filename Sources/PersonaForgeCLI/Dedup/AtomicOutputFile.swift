#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered output file that appears at its path only when committed: bytes
/// go to a temporary file next to it, renamed over `path` by `commit()`.
/// Dropped without commit (an error), the temporary file is removed, so a
/// failed run never leaves partial output.
final class AtomicOutputFile {
    let path: String
    private let temporaryPath: String
    private var file: UnsafeMutablePointer<FILE>?

    init(path: String) throws {
        self.path = path
        temporaryPath = "\(path).tmp-\(getpid())"
        guard let file = fopen(temporaryPath, "wb") else {
            throw DedupInputError("cannot create output '\(temporaryPath)': \(String(cString: strerror(errno)))")
        }
        setvbuf(file, nil, _IOFBF, 1 << 20)
        self.file = file
    }

    deinit {
        if let file {
            fclose(file)
            unlink(temporaryPath)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard fwrite(base, 1, bytes.count, file) == bytes.count else {
            throw DedupInputError("cannot write '\(temporaryPath)': \(String(cString: strerror(errno)))")
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func writeNewline() throws {
        guard fputc(0x0A, file) != EOF else {
            throw DedupInputError("cannot write '\(temporaryPath)': \(String(cString: strerror(errno)))")
        }
    }

    /// Flushes, closes and renames the temporary file to `path`.
    func commit() throws {
        guard let file else { return }
        self.file = nil
        guard fflush(file) == 0, fclose(file) == 0 else {
            unlink(temporaryPath)
            throw DedupInputError("cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw DedupInputError("cannot move output into place at '\(path)': \(reason)")
        }
    }
}
