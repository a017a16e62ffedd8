/// A system of first-order ordinary differential equations `y' = f(t, y)`.
///
/// This is the contract between the solvers and everything that produces a right-hand side
/// (the model library, the module engine, compiled SBML models). Conformers promise:
/// - `derivatives` writes all `dimension` entries of `dy`, reads only `y`, and does not allocate;
/// - it is a pure function of `(t, y)` and the system's own parameters, so a solver may call it at any
///   point, in any order, and more than once at the same point;
/// - non-finite results are allowed (the solver reports them as an error naming the variable).
public protocol ODESystem {
    /// Number of state variables.
    var dimension: Int { get }

    /// Writes `f(t, y)` into `dy`.
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>)

    /// Writes the Jacobian `∂f/∂y` in row-major order (`jacobian[i * dimension + j] = ∂f_i/∂y_j`) and
    /// returns `true`, or returns `false` when the system has no analytic Jacobian (the solver then uses
    /// finite differences). The default returns `false`.
    func jacobian(t: Double, y: UnsafeBufferPointer<Double>, into jacobian: UnsafeMutableBufferPointer<Double>) -> Bool

    /// The sparsity pattern of the Jacobian as (row, column) pairs, or `nil` for dense. Large systems
    /// (hundreds of states) that provide it let the stiff solver use its sparse path.
    var jacobianSparsity: [(row: Int, column: Int)]? { get }

    /// Names of the state variables, used in error messages ("NaN in 'Gp' at t = 12.5").
    var variableNames: [String] { get }

    /// Writes the values of the Jacobian's nonzero entries, in the order of `jacobianSparsity`
    /// (`values[k] = ∂f_row/∂y_column` of the k-th pair), and returns `true`; or returns `false` when the
    /// system has no analytic sparse Jacobian. The default returns `false`. Used by the sparse path of the
    /// stiff solver; without it the solver uses a dense analytic `jacobian` if there is one, otherwise
    /// graph-coloured finite differences (a few evaluations of `f` per Jacobian for banded patterns).
    func sparseJacobian(t: Double, y: UnsafeBufferPointer<Double>, values: UnsafeMutableBufferPointer<Double>) -> Bool
}

extension ODESystem {
    public func jacobian(t: Double, y: UnsafeBufferPointer<Double>, into jacobian: UnsafeMutableBufferPointer<Double>) -> Bool { false }
    public var jacobianSparsity: [(row: Int, column: Int)]? { nil }
    public var variableNames: [String] { (0..<dimension).map { "y[\($0)]" } }
    public func sparseJacobian(t: Double, y: UnsafeBufferPointer<Double>, values: UnsafeMutableBufferPointer<Double>) -> Bool { false }
}
