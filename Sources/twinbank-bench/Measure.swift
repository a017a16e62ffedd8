import Foundation

/// What every benchmark here measures with: durations, medians, CPU time, peak memory, and the anchors'
/// scripts run as child processes.
enum Measure {
    /// A duration in seconds.
    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// The median (the upper one of an even count); `xs` must not be empty.
    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    /// The `p` quantile (0...1, nearest rank from below); `xs` must not be empty.
    static func percentile(_ xs: [Double], _ p: Double) -> Double {
        let s = xs.sorted()
        return s[min(s.count - 1, Int(Double(s.count) * p))]
    }

    /// CPU time of this process (user + system, all threads), in seconds: less sensitive than wall time to
    /// other load on the machine.
    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// The peak resident memory of this process so far, in MB.
    static func peakResidentMB() -> Double {
        var u = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &u)
        return Double(u.ru_maxrss) / 1024
    }

    /// Runs `executable` with `arguments` (and `environment` over this process's) and returns its exit status and
    /// its standard output and error together.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
