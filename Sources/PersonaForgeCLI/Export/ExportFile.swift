#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PersonaForgeCompression

/// A streaming output file that appears at its path complete or not at all:
/// bytes go (through a gzip encoder when asked) to a temporary file next to it,
/// which `commit()` renames into place. Dropped without `commit()` — an error, an
/// interrupted export — it removes the temporary file. Standard output (`-`) is
/// written directly.
final class ExportFile {
    let destination: OutputDestination
    private let temporaryPath: String?
    private var file: UnsafeMutablePointer<FILE>?
    private let gzip: Bool
    private var encoder = GzipEncoder(level: 6)
    /// Uncompressed bytes written so far.
    private(set) var byteCount = 0

    init(_ destination: OutputDestination, gzip: Bool) throws(ExportError) {
        self.destination = destination
        self.gzip = gzip
        if destination.isStandardOutput {
            temporaryPath = nil
            file = fdopen(STDOUT_FILENO, "wb")
        } else {
            let temporary = "\(destination.path).partial-\(getpid())"
            guard let opened = fopen(temporary, "wb") else {
                throw ExportError("cannot create '\(temporary)' for '\(destination.path)': \(String(cString: strerror(errno)))")
            }
            setvbuf(opened, nil, _IOFBF, 1 << 20)
            temporaryPath = temporary
            file = opened
        }
    }

    deinit {
        if let file, let temporaryPath {
            fclose(file)
            unlink(temporaryPath)
        }
    }

    /// Writes `text` as UTF-8. Errors are ``ExportError``s.
    func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Writes `bytes`. Errors are ``ExportError``s.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        byteCount += bytes.count
        if gzip {
            try encoder.compress(bytes) { chunk in try writeRaw(chunk) }
        } else {
            try writeRaw(bytes)
        }
    }

    private func writeRaw(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0, let file else { return }
        guard fwrite(base, 1, bytes.count, file) == bytes.count else {
            throw ExportError("cannot write '\(destination.path)': \(String(cString: strerror(errno)))")
        }
    }

    /// Ends the gzip member, flushes, and renames the temporary file over the destination.
    /// Errors are ``ExportError``s.
    func commit() throws {
        guard let file else { return }
        if gzip {
            try encoder.finish { chunk in try writeRaw(chunk) }
        }
        self.file = nil
        guard let temporaryPath else {
            guard fflush(file) == 0 else { throw ExportError("cannot write to standard output: \(String(cString: strerror(errno)))") }
            return
        }
        guard fflush(file) == 0, fclose(file) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw ExportError("cannot write '\(destination.path)': \(reason)")
        }
        guard rename(temporaryPath, destination.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw ExportError("cannot move '\(temporaryPath)' into place at '\(destination.path)': \(reason)")
        }
    }
}
