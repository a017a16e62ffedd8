import Dispatch
import Foundation

/// What a trace found, and what it took.
public struct TraceResult: Sendable, Equatable {
    /// The unique (index case, contact) pairs, sorted by case then contact.
    public var pairs: [ContactPair]
    /// How many pings belong to index cases.
    public var casePings: Int
    /// How many (index-case ping, other ping) pairs met the criteria (the anchor's "matching ping pairs").
    public var matchingPingPairs: Int
    /// How many (index-case ping, other ping) candidates the index handed to the filters and the exact test.
    public var candidates: Int
    /// Seconds spent selecting the index cases' pings and indexing them.
    public var indexSeconds: Double
    /// Seconds spent looking every ping up in the index and gathering the unique pairs.
    public var querySeconds: Double
}

/// Exact proximity contact tracing: every (index case, contact) pair such that some ping of the contact lies
/// within the distance and the window of some ping of the index case, the contact being another person
/// (``ProximityCriteria``). The answer is the set a brute-force scan finds (``bruteForce(_:cases:criteria:)``).
///
/// Method: the index cases' pings (few) go into a ``ProximityIndex``; then every ping (many) is looked up in it,
/// in parallel over the cores, each in exactly one cell and there only at the entries within its window.
/// Indexing the few rather than the many keeps the index small (about 20 MB for 100,000 case pings) and needs no
/// sort of the pings. A contact's successive pings near one case record the pair once (the pings are usually
/// grouped by person), so the pairs gathered stay few.
public enum ContactTracer {
    /// Traces the contacts of `cases` in `pings`.
    /// - Parameter workers: threads for the lookups (default: the active processors).
    public static func trace(_ pings: Pings, cases: [Int32], criteria: ProximityCriteria,
                             workers: Int = ProcessInfo.processInfo.activeProcessorCount) -> TraceResult {
        let clock = ContinuousClock()
        let started = clock.now
        let selected = selectCasePings(pings, cases: cases, workers: workers)
        let index = ProximityIndex(selected, criteria: criteria)
        // Each index case's number (its rank among the cases), per indexed ping: a chunk remembers, per
        // case, the last contact it recorded, so that a contact's run of pings near a case (the pings are often
        // grouped by person) records the pair once.
        let caseIDs = Array(Set(cases)).sorted()
        let caseOf: [Int32] = selected.person.map { p in
            var lo = 0, hi = caseIDs.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if caseIDs[mid] < p { lo = mid + 1 } else { hi = mid }
            }
            return Int32(lo)
        }

        let indexed = clock.now

        let n = pings.count
        let threads = max(1, workers)
        let chunks = n == 0 ? 1 : min(n, threads * 16)
        // per chunk: (case number << 32 | contact's biased id) of each pair found, in the order found
        var found = [[UInt64]](repeating: [], count: chunks)
        var counts = [Int](repeating: 0, count: chunks)
        var examined = [Int](repeating: 0, count: chunks)
        let person = pings.person, time = pings.time, latitude = pings.latitude, longitude = pings.longitude
        found.withUnsafeMutableBufferPointer { foundBuffer in
            counts.withUnsafeMutableBufferPointer { countBuffer in
              examined.withUnsafeMutableBufferPointer { examinedBuffer in
                nonisolated(unsafe) let out = foundBuffer
                nonisolated(unsafe) let matched = countBuffer
                nonisolated(unsafe) let candidates = examinedBuffer
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let lo = n * c / chunks, hi = n * (c + 1) / chunks
                    var keys: [UInt64] = []
                    var last = [Int64](repeating: Int64.min, count: caseIDs.count)
                    var count = 0, seen = 0
                    caseOf.withUnsafeBufferPointer { caseOf in
                    last.withUnsafeMutableBufferPointer { last in
                    person.withUnsafeBufferPointer { person in
                        time.withUnsafeBufferPointer { time in
                            latitude.withUnsafeBufferPointer { latitude in
                                longitude.withUnsafeBufferPointer { longitude in
                                    seen += index.forEachMatch(in: lo..<hi, person: person, time: time, latitude: latitude,
                                                               longitude: longitude) { j, i in
                                        count += 1
                                        let p = person[j], k = Int(caseOf[i])
                                        if last[k] != Int64(p) {
                                            last[k] = Int64(p)
                                            keys.append(UInt64(k) << 32 | UInt64(UInt32(bitPattern: p) ^ 0x8000_0000))
                                        }
                                    }
                                }
                            }
                        }
                    }
                    }
                    }
                    out[c] = keys
                    matched[c] = count
                    candidates[c] = seen
                }
              }
            }
        }
        let pairs = Self.gather(found, cases: caseIDs)
        found = []
        let queried = clock.now
        return TraceResult(pairs: pairs, casePings: selected.count, matchingPingPairs: counts.reduce(0, +),
                           candidates: examined.reduce(0, +),
                           indexSeconds: seconds(indexed - started), querySeconds: seconds(queried - indexed))
    }

    /// The pings of `cases`, in their order; the scan is spread over `workers` threads.
    static func selectCasePings(_ pings: Pings, cases: [Int32], workers: Int) -> Pings {
        let isCase = IndexCaseSet(cases)
        let n = pings.count
        let chunks = max(1, min(workers, n / 65_536))
        var found = [[Int32]](repeating: [], count: chunks)
        let person = pings.person
        found.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                var mine: [Int32] = []
                person.withUnsafeBufferPointer { person in
                    for i in n * c / chunks..<n * (c + 1) / chunks where isCase.contains(person[i]) {
                        mine.append(Int32(i))
                    }
                }
                out[c] = mine
            }
        }
        var selected = Pings()
        selected.reserveCapacity(found.reduce(0) { $0 + $1.count })
        for list in found {
            for i in list {
                let i = Int(i)
                selected.appendValid(person: pings.person[i], time: pings.time[i],
                                     latitude: pings.latitude[i], longitude: pings.longitude[i])
            }
        }
        return selected
    }

    /// The reference answer by brute force: every index-case ping against every ping, with the same exact test.
    /// Quadratic: for tests and small inputs.
    public static func bruteForce(_ pings: Pings, cases: [Int32], criteria: ProximityCriteria) -> [ContactPair] {
        let isCase = IndexCaseSet(cases)
        var pairs = Set<ContactPair>()
        for i in 0..<pings.count where isCase.contains(pings.person[i]) {
            for j in 0..<pings.count where pings.person[j] != pings.person[i] {
                if criteria.accepts(pings.time[i], pings.latitude[i], pings.longitude[i],
                                    pings.time[j], pings.latitude[j], pings.longitude[j]) {
                    pairs.insert(ContactPair(indexCase: pings.person[i], contact: pings.person[j]))
                }
            }
        }
        return pairs.sorted()
    }

    /// The unique pairs of the chunks' (case number << 32 | biased contact) lists, sorted by case then contact: a
    /// counting sort by case (stable, so a case's contacts come in chunk order, ascending when the pings are
    /// grouped by person in ascending order), then each case's contacts sorted (when they are not in order
    /// already) and made unique.
    static func gather(_ found: [[UInt64]], cases: [Int32]) -> [ContactPair] {
        var start = [Int](repeating: 0, count: cases.count + 1)
        for list in found { for key in list { start[Int(key >> 32) + 1] += 1 } }
        for c in 0..<cases.count { start[c + 1] += start[c] }
        var fill = start
        var contacts = [UInt32](repeating: 0, count: start[cases.count])
        for list in found {
            for key in list {
                let c = Int(key >> 32)
                contacts[fill[c]] = UInt32(truncatingIfNeeded: key)
                fill[c] += 1
            }
        }
        var pairs: [ContactPair] = []
        pairs.reserveCapacity(contacts.count)
        contacts.withUnsafeMutableBufferPointer { all in
            for c in 0..<cases.count where start[c + 1] > start[c] {
                var run = UnsafeMutableBufferPointer(rebasing: all[start[c]..<start[c + 1]])
                var ordered = true
                for r in 1..<run.count where run[r] < run[r - 1] { ordered = false; break }
                if !ordered { run.sort() }
                var previous: UInt32? = nil
                for v in run where v != previous {
                    pairs.append(ContactPair(indexCase: cases[c], contact: Int32(bitPattern: v ^ 0x8000_0000)))
                    previous = v
                }
            }
        }
        return pairs
    }

    /// Sorts `keys` and drops repeats (for the callers that gather pair keys, such as the observed contacts).
    static func sortUnique(_ keys: inout [UInt64]) {
        guard keys.count > 1 else { return }
        keys.sort()
        var w = 1
        for r in 1..<keys.count where keys[r] != keys[w - 1] {
            keys[w] = keys[r]
            w += 1
        }
        keys.removeLast(keys.count - w)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// Membership of person ids in the index cases: a bitmap over the cases' id range when it is at most 2^27 wide,
/// else a binary search.
struct IndexCaseSet: Sendable {
    private let sorted: [Int32]
    private let low: Int64
    private let bits: [UInt64]

    init(_ cases: [Int32]) {
        sorted = Array(Set(cases)).sorted()
        guard let first = sorted.first, let last = sorted.last, Int64(last) - Int64(first) < 1 << 27 else {
            low = 0
            bits = []
            return
        }
        low = Int64(first)
        var bits = [UInt64](repeating: 0, count: Int((Int64(last) - Int64(first)) / 64 + 1))
        for c in sorted {
            let o = Int(Int64(c) - Int64(first))
            bits[o >> 6] |= 1 << UInt64(o & 63)
        }
        self.bits = bits
    }

    @inline(__always)
    func contains(_ id: Int32) -> Bool {
        if !bits.isEmpty {
            let o = Int64(id) - low
            guard o >= 0, o < Int64(bits.count) * 64 else { return false }
            return bits[Int(o) >> 6] & (1 << UInt64(o & 63)) != 0
        }
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < sorted.count && sorted[lo] == id
    }
}
