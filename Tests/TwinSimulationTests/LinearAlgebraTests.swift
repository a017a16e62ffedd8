import Testing
@testable import TwinSimulation

@Suite("Dense linear algebra")
struct LinearAlgebraTests {
    @Test("solves a system that needs pivoting")
    func pivoting() {
        // [[0, 2, 1], [1, 1, 1], [2, 1, 0]] x = [5, 4, 4] has x = (1, 2, 1); a zero first pivot forces a row swap.
        let lu = DenseLU(dimension: 3)
        let a: [Double] = [0, 2, 1, 1, 1, 1, 2, 1, 0]
        for k in 0..<9 { lu.a[k] = a[k] }
        #expect(lu.factor())
        var b: [Double] = [5, 4, 4]
        b.withUnsafeMutableBufferPointer { lu.solve($0.baseAddress!) }
        #expect(abs(b[0] - 1) < 1e-14 && abs(b[1] - 2) < 1e-14 && abs(b[2] - 1) < 1e-14)
    }

    @Test("reports a singular matrix")
    func singular() {
        let lu = DenseLU(dimension: 3)
        let a: [Double] = [1, 2, 3, 2, 4, 6, 0, 1, 1]
        for k in 0..<9 { lu.a[k] = a[k] }
        #expect(!lu.factor())
        let sparse = SparseLU(dimension: 2, pattern: [(0, 0), (0, 1), (1, 0), (1, 1)])
        // W = 1·I − J with J = [[1, 0], [0, 1]] is zero.
        let j: [Double] = [1, 0, 0, 1]
        j.withUnsafeBufferPointer { sparse.load(jacobian: $0.baseAddress!, shift: 1) }
        #expect(!sparse.factor())
    }

    @Test("Dense.solve (the SBML compiler's algebraic rules) solves with pivoting and refuses a singular matrix")
    func denseSolve() {
        var a: [Double] = [0, 2, 1, 1, 1, 1, 2, 1, 0]
        var b: [Double] = [5, 4, 4]
        #expect(Dense.solve(&a, &b, 3))
        #expect(abs(b[0] - 1) < 1e-14 && abs(b[1] - 2) < 1e-14 && abs(b[2] - 1) < 1e-14)
        var s: [Double] = [1, 2, 3, 2, 4, 6, 0, 1, 1]
        var c: [Double] = [1, 2, 3]
        #expect(!Dense.solve(&s, &c, 3))
        #expect(c == [1, 2, 3])
        var nan: [Double] = [.nan, 1, 0, 1]
        var d: [Double] = [1, 1]
        #expect(!Dense.solve(&nan, &d, 2))
    }

    @Test("Dense.luFactor and luSolve agree with the Cholesky solve on an SPD matrix")
    func luAgreesWithCholesky() {
        let n = 4
        // A = Bᵀ B + n I (symmetric positive definite).
        let bm: [Double] = [1, 2, 0, -1, 3, 1, 1, 0, 0, -2, 4, 1, 1, 1, 1, 2]
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for k in 0..<n { a[i * n + j] += bm[k * n + i] * bm[k * n + j] } } ; a[i * n + i] += Double(n) }
        let rhs: [Double] = [1, -2, 0.5, 3]
        var lu = a, x1 = rhs, pivots = [Int](repeating: 0, count: n)
        let ok = lu.withUnsafeMutableBufferPointer { l in pivots.withUnsafeMutableBufferPointer { p in Dense.luFactor(l.baseAddress!, n, pivots: p.baseAddress!) } }
        #expect(ok)
        lu.withUnsafeBufferPointer { l in pivots.withUnsafeBufferPointer { p in x1.withUnsafeMutableBufferPointer { Dense.luSolve(l.baseAddress!, n, pivots: p.baseAddress!, $0.baseAddress!) } } }
        var ch = a, x2 = rhs
        let failed = ch.withUnsafeMutableBufferPointer { Dense.cholesky($0.baseAddress!, n) }
        #expect(failed == nil)
        ch.withUnsafeBufferPointer { l in x2.withUnsafeMutableBufferPointer { Dense.choleskySolve(l.baseAddress!, n, $0.baseAddress!, 1) } }
        for i in 0..<n { #expect(abs(x1[i] - x2[i]) < 1e-12) }
        // A x = rhs.
        for i in 0..<n {
            var s = 0.0
            for j in 0..<n { s += a[i * n + j] * x1[j] }
            #expect(abs(s - rhs[i]) < 1e-12)
        }
    }
}
