import Testing
@testable import TwinSimulation

@Suite("Dense LU")
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
}
