import Foundation

/// A HyperLogLog cardinality sketch over pre-hashed 64-bit values
/// (Flajolet et al. 2007, with 64-bit hashes and linear counting for small
/// cardinalities, as in Heule et al. 2013 without the bias table).
///
/// With `2^precision` registers the relative standard error of `estimate` is
/// `1.04 / sqrt(2^precision)`: 0.81 % at the default precision 14 (16 KiB).
/// Merging takes the register-wise maximum and is exact: the merged sketch
/// equals the sketch of the union.
public struct HyperLogLog: Sendable, Hashable, Codable {
    /// log2 of the number of registers (4...18).
    public let precision: Int
    private var registers: [UInt8]

    /// An empty sketch with `2^precision` registers.
    public init(precision: Int = 14) {
        precondition((4...18).contains(precision), "HyperLogLog precision must be in 4...18, got \(precision)")
        self.precision = precision
        registers = [UInt8](repeating: 0, count: 1 << precision)
    }

    /// The relative standard error of `estimate`, `1.04 / sqrt(m)`.
    public var relativeStandardError: Double {
        1.04 / Double(registers.count).squareRoot()
    }

    /// Records one well-mixed 64-bit hash.
    @inlinable
    public mutating func insert(hash: UInt64) {
        let index = Int(hash >> UInt64(64 - precision))
        // Rank of the first 1-bit in the remaining 64 - p bits (1-based);
        // the sentinel bit bounds it at 64 - p + 1.
        let rest = (hash << UInt64(precision)) | (1 << UInt64(precision - 1))
        let rank = UInt8(rest.leadingZeroBitCount + 1)
        update(index: index, rank: rank)
    }

    @usableFromInline
    mutating func update(index: Int, rank: UInt8) {
        if registers[index] < rank { registers[index] = rank }
    }

    /// The estimated number of distinct hashes inserted.
    public var estimate: Double {
        let m = Double(registers.count)
        var sum = 0.0
        var zeros = 0
        for register in registers {
            sum += 1.0 / Double(UInt64(1) << UInt64(register))
            if register == 0 { zeros += 1 }
        }
        let alpha: Double
        switch registers.count {
        case 16: alpha = 0.673
        case 32: alpha = 0.697
        case 64: alpha = 0.709
        default: alpha = 0.7213 / (1 + 1.079 / m)
        }
        let raw = alpha * m * m / sum
        if raw <= 2.5 * m && zeros > 0 {
            return m * log(m / Double(zeros))
        }
        return raw
    }

    /// Adds everything `other` has seen (register-wise maximum; exact).
    public mutating func merge(_ other: HyperLogLog) {
        precondition(other.precision == precision, "cannot merge HyperLogLog sketches of different precision")
        for index in registers.indices where registers[index] < other.registers[index] {
            registers[index] = other.registers[index]
        }
    }
}
