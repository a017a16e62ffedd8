import Foundation

/// The K-th of M slices of a sweep of runs (`--shard K/M`, K from 1): run indices
/// `total·(K-1)/M ..< total·K/M`, so the M shards together cover every run exactly once and a shard computes
/// exactly the runs (same seeds, same counts) that the whole sweep would.
public struct OutbreakShard: Sendable, Hashable, CustomStringConvertible {
    /// 1-based.
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws(PopulationError) {
        guard count >= 1, (1...count).contains(index) else {
            throw PopulationError(.invalidArgument, "shard \(index)/\(count): give K/M with 1 <= K <= M", value: "\(index)/\(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `K/M`.
    public init(parsing text: String) throws(PopulationError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let m = Int(parts[1]) else {
            throw PopulationError(.invalidArgument, "shard '\(text)': write K/M, for example 2/8", value: text)
        }
        try self.init(index: k, count: m)
    }

    /// The run indices of this shard in a sweep of `total` runs.
    public func runs(of total: Int) -> Range<Int> {
        (total * (index - 1) / count)..<(total * index / count)
    }

    public var description: String { "\(index)/\(count)" }
}

/// The median and 5th-95th percentile band of a quantity over an ensemble's runs.
public struct OutbreakBand: Sendable, Hashable {
    public var median: [Double]
    public var low: [Double]
    public var high: [Double]
}

/// Many runs of one scenario on one population, spread over all cores, with uncertainty bands.
///
/// All runs share one population (`twinbank outbreak` draws it from its `--seed`, or redraws a population
/// twin's); run `i` uses the seed `OutbreakModel.runSeed(seed, index: i)`, so runs are independent of how
/// they are spread over cores or shards.
public struct OutbreakEnsemble: Sendable {
    public let runs: [OutbreakRun]

    public init(runs: [OutbreakRun]) { self.runs = runs }

    /// Simulates the runs `indices` in parallel (at most `parallelism` at once; by default one per core), each
    /// with the `observed` community contacts if given (``OutbreakModel/run(population:scenario:days:seed:runIndex:observed:)``).
    public static func simulate(population: SyntheticPopulation, scenario: OutbreakScenario, days: Int, seed: UInt64,
                                runs indices: Range<Int>, parallelism: Int? = nil,
                                observed: ObservedCommunity? = nil) throws(PopulationError) -> OutbreakEnsemble {
        try OutbreakModel.check(population: population, scenario: scenario, days: days, observed: observed)
        let slots = Slots(count: indices.count)
        let workers = max(1, min(parallelism ?? ProcessInfo.processInfo.activeProcessorCount, indices.count))
        let first = indices.lowerBound, total = indices.count
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var k = w
            while k < total {
                let index = first + k
                let result = Result { () throws(PopulationError) -> OutbreakRun in
                    try OutbreakModel.run(population: population, scenario: scenario, days: days,
                                          seed: OutbreakModel.runSeed(seed, index: index), runIndex: index, observed: observed)
                }
                slots.set(k, result)
                k += workers
            }
        }
        return OutbreakEnsemble(runs: try slots.collect())
    }

    /// The band of a daily series over the runs.
    public func band(_ series: OutbreakSeries) -> OutbreakBand {
        guard let days = runs.first?.days else { return OutbreakBand(median: [], low: [], high: []) }
        var b = OutbreakBand(median: [], low: [], high: [])
        var column = [Double](repeating: 0, count: runs.count)
        for d in 0...days {
            for (r, run) in runs.enumerated() { column[r] = Double(run.counts[series.rawValue][d]) }
            column.sort()
            b.median.append(Self.quantile(column, 0.5)); b.low.append(Self.quantile(column, 0.05)); b.high.append(Self.quantile(column, 0.95))
        }
        return b
    }

    /// Median, 5th and 95th percentiles of a headline number over the runs.
    public func headlineBand(_ value: (OutbreakHeadline) -> Double) -> (median: Double, low: Double, high: Double) {
        let xs = runs.map { value($0.headline) }.sorted()
        return (Self.quantile(xs, 0.5), Self.quantile(xs, 0.05), Self.quantile(xs, 0.95))
    }

    /// The `p` quantile of sorted values, linearly interpolated (numpy's default).
    public static func quantile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let h = p * Double(sorted.count - 1)
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    /// Results written by concurrent workers, each to its own slot.
    private final class Slots: @unchecked Sendable {
        private var results: [Result<OutbreakRun, PopulationError>?]
        private let lock = NSLock()
        init(count: Int) { results = Array(repeating: nil, count: count) }
        func set(_ k: Int, _ r: Result<OutbreakRun, PopulationError>) { lock.lock(); results[k] = r; lock.unlock() }
        func collect() throws(PopulationError) -> [OutbreakRun] {
            var out: [OutbreakRun] = []
            for r in results {
                switch r {
                case .success(let run)?: out.append(run)
                case .failure(let e)?: throw e
                case nil: throw PopulationError(.invalidArgument, "a run did not finish")
                }
            }
            return out
        }
    }
}
