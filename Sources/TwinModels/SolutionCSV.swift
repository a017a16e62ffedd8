import TwinSimulation

/// CSV rendering of solver output: a header `time,<variable names>` and one row per output time, numbers in
/// Swift's shortest round-trip form (so reading the file back gives the same doubles).
public enum SolutionCSV {
    public static func render(_ solution: Solution, timeColumn: String = "time") -> String {
        var out = ([timeColumn] + solution.variableNames).joined(separator: ",") + "\n"
        for k in 0..<solution.count {
            out += "\(solution.times[k])"
            for i in 0..<solution.dimension { out += ",\(solution.value(i, at: k))" }
            out += "\n"
        }
        return out
    }
}
