internal import CZlib

/// A running CRC-32 (the gzip / zlib polynomial), as in a gzip trailer.
public struct CRC32: Sendable, Hashable, Codable {
    /// The checksum of everything fed so far.
    public private(set) var value: UInt32 = 0

    /// The checksum of nothing.
    public init() {}

    /// Extends the checksum with `bytes`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var remaining = bytes.count
        var pointer = base.assumingMemoryBound(to: Bytef.self)
        var crc = uLong(value)
        while remaining > 0 {
            let chunk = min(remaining, Int(UInt32.max))
            crc = crc32(crc, pointer, uInt(chunk))
            pointer += chunk
            remaining -= chunk
        }
        value = UInt32(truncatingIfNeeded: crc)
    }
}
