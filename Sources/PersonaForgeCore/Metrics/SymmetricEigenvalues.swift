/// Eigenvalues of a small real symmetric matrix by the cyclic Jacobi method
/// (Golub & Van Loan §8.5): plane rotations until the off-diagonal mass is
/// below `tolerance` relative to the Frobenius norm. O(n³) per sweep, a
/// handful of sweeps; meant for n up to a few hundred.
public enum SymmetricEigenvalues {
    /// The eigenvalues of the symmetric `matrix` (row-major, n × n), ascending.
    /// Only the upper triangle is read.
    public static func compute(_ matrix: [[Double]], tolerance: Double = 1e-12, maxSweeps: Int = 100) -> [Double] {
        let n = matrix.count
        precondition(matrix.allSatisfy { $0.count == n }, "the matrix must be square")
        guard n > 1 else { return matrix.first.map { [$0[0]] } ?? [] }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                a[i * n + j] = matrix[i][j]
                a[j * n + i] = matrix[i][j]
            }
        }
        var norm = 0.0
        for value in a { norm += value * value }
        let threshold = tolerance * tolerance * max(norm, .leastNormalMagnitude)
        for _ in 0..<maxSweeps {
            var offDiagonal = 0.0
            for i in 0..<n { for j in (i + 1)..<n { offDiagonal += a[i * n + j] * a[i * n + j] } }
            if offDiagonal <= threshold { break }
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    let app = a[p * n + p]
                    let aqq = a[q * n + q]
                    let theta = (aqq - app) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p]
                        let akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k]
                        let aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                }
            }
        }
        return (0..<n).map { a[$0 * n + $0] }.sorted()
    }
}
