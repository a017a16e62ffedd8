import Foundation

/// Exact minimum-cost assignment of patients to hospital wards, with a triage penalty for patients left unplaced,
/// re-optimised as patients arrive.
///
/// The problem is the anchor's min-cost flow (source -> patient -> (hospital, ward) -> sink, plus patient ->
/// overflow at the severity's penalty). A patient only reaches wards of the type their severity needs, so the flow
/// splits into one transportation problem per ward type: patients on one side, that ward in every hospital plus
/// an unlimited overflow column on the other. Each is solved by successive shortest paths over the compact graph
/// of its columns (hospitals + overflow), with prices (potentials) on the columns:
///
/// - invariant: every patient sits in a column minimising `cost + price`; prices are non-negative and only a
///   full column has a positive price. These are the LP's complementary-slackness conditions, so the assignment
///   is optimal at every step (``isOptimal`` checks them).
/// - adding a patient: Dijkstra from the patient over the columns, where an edge `a -> b` moves the cheapest
///   patient of full column `a` to `b` (reduced costs are non-negative by the invariant; the cheapest move per
///   pair comes from a lazy heap keyed by `cost[b] - cost[a]`, which prices do not change). The search stops at the
///   first column with room (overflow always has room); the path is augmented and the prices of the columns
///   settled before it are raised, which keeps the invariant.
///
/// Costs are integer cents computed as the anchor computes them (``CostModel``), so the optimum is exact and equal
/// to OR-tools' `optimal_cost()`. Adding patients to a solved instance continues from its flow and prices (a warm
/// start): the result is an optimum of the enlarged instance, with the same cost as solving it from scratch.
public struct AssignmentSolver: Sendable {
    /// The hospitals and the cost model.
    public private(set) var network: HospitalNetwork
    /// Every patient added so far, in order.
    public private(set) var patients: [Patient] = []
    private var wards: [WardProblem]
    /// For each patient: its ward type and its index in that ward's problem.
    private var local: [(ward: Int32, index: Int32)] = []
    private var ids = Set<InstanceID>()

    /// A solver over `network` with no patients yet.
    public init(network: HospitalNetwork) {
        self.network = network
        wards = network.model.wards.indices.map { w in
            WardProblem(capacity: network.hospitals.map { $0.capacity[w] }, penalty: network.model.penaltyCents(ward: w))
        }
    }

    /// Solves `patients` over `network` from scratch.
    public static func solve(_ network: HospitalNetwork, patients: [Patient]) throws(PopulationError) -> Assignment {
        var solver = AssignmentSolver(network: network)
        try solver.add(patients)
        return solver.assignment
    }

    /// Adds patients (arrivals) and re-optimises from the current flow and prices. Every patient is checked
    /// first (``HospitalNetwork/validate(_:)``, ids unique among all added); on an error nothing is added.
    /// - Throws: ``PopulationError/Code/invalidInstance`` for a bad patient; ``PopulationError/Code/tooLarge``
    ///   when the solver's arrays (about 24 bytes per patient and hospital) would take more than half of this
    ///   machine's memory.
    public mutating func add(_ newPatients: [Patient]) throws(PopulationError) {
        try Self.checkMemory(patients: patients.count + newPatients.count, hospitals: network.hospitals.count,
                             physicalMemory: ProcessInfo.processInfo.physicalMemory)
        var fresh = Set<InstanceID>()
        for p in newPatients {
            try network.validate(p)
            guard !ids.contains(p.id), fresh.insert(p.id).inserted else {
                throw PopulationError(.invalidInstance, "patient id \(p.id) appears twice", value: p.id.description)
            }
        }
        let model = network.model, hospitals = network.hospitals
        let hx = hospitals.map(\.x), hy = hospitals.map(\.y)
        // Every new patient's cost row first, then the augmentations, one ward type at a time.
        var start = wards.map(\.count)
        for p in newPatients {
            let w = p.severity - 1
            local.append((Int32(w), Int32(wards[w].count)))
            var row = [Int64](repeating: 0, count: hospitals.count + 1)
            for h in hospitals.indices {
                row[h] = model.arcCents(km: CostModel.km(p.x, p.y, hx[h], hy[h]), ward: w)
            }
            row[hospitals.count] = wards[w].penalty
            wards[w].appendPatient(costs: row)
        }
        patients += newPatients
        ids.formUnion(fresh)
        for w in wards.indices {
            wards[w].augmentAll(from: start[w])
            start[w] = wards[w].count
        }
    }

    /// Changes the hospitals (capacities recorded since, a hospital opened or closed) and re-solves every patient
    /// added so far over them, from scratch (a change of capacity can move any patient; warm starts are for
    /// arrivals). Patients that no longer fit the network (a model with fewer wards) are refused and nothing changes.
    public mutating func replaceNetwork(_ network: HospitalNetwork) throws(PopulationError) {
        var fresh = AssignmentSolver(network: network)
        try fresh.add(patients)
        self = fresh
    }

    /// Refuses an instance whose cost rows and move heaps (at most 8 + 16 bytes per patient and column, and 8 per
    /// pair of columns for each full column) would exceed half of `physicalMemory`.
    static func checkMemory(patients: Int, hospitals: Int, physicalMemory: UInt64) throws(PopulationError) {
        let bytes = Double(patients) * Double(hospitals + 1) * 24 + Double(min(patients, hospitals)) * Double(hospitals + 1) * 8
        guard bytes <= Double(physicalMemory) / 2 else {
            throw PopulationError(.tooLarge, "\(patients) patients x \(hospitals) hospitals need about \(Int(bytes / 1_048_576)) MiB, more than half of this machine's \(physicalMemory / 1_048_576) MiB: split the region or the arrivals", value: "\(patients)x\(hospitals)")
        }
    }

    /// The current optimal assignment.
    public var assignment: Assignment {
        var placement = [Assignment.Place?](repeating: nil, count: patients.count)
        var total: Int64 = 0
        for (i, l) in local.enumerated() {
            let problem = wards[Int(l.ward)]
            let column = problem.columnOf(Int(l.index))
            total += problem.cost(Int(l.index), column)
            if column < problem.hospitals { placement[i] = Assignment.Place(hospital: column, ward: Int(l.ward)) }
        }
        return Assignment(network: network, patients: patients, placement: placement, costCents: total)
    }

    /// Whether the current assignment meets the optimality conditions (loads within capacity, every patient in a
    /// column of least `cost + price`, prices non-negative and positive only on full columns): a certificate,
    /// checked independently of how the solver got there.
    public var isOptimal: Bool { wards.allSatisfy { $0.isOptimal } }
}

/// The answer: each patient's hospital and ward, or nothing (overflow), and the exact total cost.
public struct Assignment: Sendable {
    /// A hospital (index into the network's hospitals) and a ward (index into the model's wards).
    public struct Place: Sendable, Hashable {
        public var hospital: Int
        public var ward: Int
    }

    public let network: HospitalNetwork
    public let patients: [Patient]
    /// Per patient, in order: where they go, `nil` when unplaced (overflow).
    public let placement: [Place?]
    /// The optimal total cost in cents (exact).
    public let costCents: Int64

    /// The optimal total cost (`costCents / 100`, the double nearest to the exact value, as the anchor prints it).
    public var cost: Double { Double(costCents) / CostModel.scale }

    /// The patients left unplaced (indices into ``patients``): reported, never dropped.
    public var overflow: [Int] { placement.indices.filter { placement[$0] == nil } }

    /// How many patients are unplaced, per severity (index severity - 1).
    public var overflowBySeverity: [Int] {
        var n = [Int](repeating: 0, count: network.model.wards.count)
        for i in placement.indices where placement[i] == nil { n[patients[i].severity - 1] += 1 }
        return n
    }

    /// How many patients each hospital's wards take: `[hospital][ward]`.
    public var load: [[Int]] {
        var l = [[Int]](repeating: [Int](repeating: 0, count: network.model.wards.count), count: network.hospitals.count)
        for case let p? in placement { l[p.hospital][p.ward] += 1 }
        return l
    }

    /// `cost` as the anchor's `--save-solution` writes it: the cents as a decimal with at most two places.
    public var costText: String {
        let sign = costCents < 0 ? "-" : ""
        let c = costCents.magnitude
        let cents = c % 100
        return sign + "\(c / 100)." + (cents == 0 ? "0" : cents % 10 == 0 ? "\(cents / 10)" : (cents < 10 ? "0\(cents)" : "\(cents)"))
    }

    /// The file the anchor's `--save-solution` writes, byte for byte in its layout:
    /// `{"cost": C, "assignment": [{"hospital": ID, "ward": NAME} or null, ...]}`, one entry per patient in order.
    public var solutionJSON: String {
        var s = "{\"cost\": " + costText + ", \"assignment\": ["
        for (i, p) in placement.enumerated() {
            if i > 0 { s += ", " }
            if let p {
                s += "{\"hospital\": " + Self.json(network.hospitals[p.hospital].id) + ", \"ward\": " + Self.json(network.model.wards[p.ward]) + "}"
            } else {
                s += "null"
            }
        }
        return s + "]}"
    }

    static func json(_ id: InstanceID) -> String {
        switch id {
        case .number(let n): String(n)
        case .text(let t): json(t)
        }
    }

    static func json(_ text: String) -> String {
        var s = "\""
        for u in text.unicodeScalars {
            switch u {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case "\n": s += "\\n"
            case "\r": s += "\\r"
            case "\t": s += "\\t"
            default:
                if u.value < 0x20 || u.value > 0x7e {
                    // ASCII only, as Python's json.dump writes by default.
                    if u.value > 0xFFFF {
                        let v = u.value - 0x10000
                        s += hex4(0xD800 + (v >> 10)) + hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        s += hex4(u.value)
                    }
                } else {
                    s.unicodeScalars.append(u)
                }
            }
        }
        return s + "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - h.count) + h
    }
}

/// One ward type's transportation problem: its patients against every hospital's ward of that type and the
/// overflow column (the last, unlimited). Struct of arrays; all costs in cents.
struct WardProblem: Sendable {
    struct Entry: Sendable {
        var key: Int64
        var patient: Int32
        var version: Int32
    }

    let hospitals: Int
    let columns: Int
    let penalty: Int64
    let capacity: [Int]
    private var load: [Int]
    private var price: [Int64]
    /// Patient-major, `columns` wide.
    private var costs: [Int64] = []
    private var column: [Int32] = []
    private var version: [Int32] = []
    /// `heaps[heapRow[a] + b]`: patients in hospital column `a` keyed by `cost[b] - cost[a]`, a binary min-heap
    /// with stale entries (the patient moved since) dropped when they reach the top. Built when `a` fills up:
    /// only full columns are searched through (a column with room ends the search), and a full column stays full.
    private var heaps: [[Entry]] = []
    /// Where column `a`'s heaps start in `heaps`, -1 while it has room.
    private var heapRow: [Int]

    init(capacity: [Int], penalty: Int64) {
        hospitals = capacity.count
        columns = capacity.count + 1
        self.penalty = penalty
        self.capacity = capacity + [Int.max]
        load = [Int](repeating: 0, count: columns)
        price = [Int64](repeating: 0, count: columns)
        heapRow = [Int](repeating: -1, count: hospitals)
    }

    var count: Int { column.count }

    func columnOf(_ k: Int) -> Int { Int(column[k]) }
    func cost(_ k: Int, _ j: Int) -> Int64 { costs[k * columns + j] }

    mutating func appendPatient(costs row: [Int64]) {
        costs += row
        column.append(-1)
        version.append(0)
    }

    /// Places every patient from index `first` on, one augmentation each.
    mutating func augmentAll(from first: Int) {
        guard first < count else { return }
        var scratch = Scratch(columns: columns)
        for k in first..<count { augment(k, &scratch) }
    }

    struct Scratch {
        var dist: [Int64]
        var previous: [Int32]
        var via: [Int32]
        var settled: [Bool]
        var order: [Int32] = []
        init(columns: Int) {
            dist = [Int64](repeating: 0, count: columns)
            previous = [Int32](repeating: -1, count: columns)
            via = [Int32](repeating: -1, count: columns)
            settled = [Bool](repeating: false, count: columns)
            order.reserveCapacity(columns)
        }
    }

    /// One successive-shortest-path step: routes patient `k` (not yet placed) to a column with room.
    private mutating func augment(_ k: Int, _ s: inout Scratch) {
        let c = columns, overflow = hospitals, base = k * c
        for j in 0..<c {
            s.dist[j] = costs[base + j] + price[j]
            s.previous[j] = -1
            s.settled[j] = false
        }
        s.order.removeAll(keepingCapacity: true)
        var terminal = overflow
        while true {
            var best = -1
            var bestDist = Int64.max
            for j in 0..<c where !s.settled[j] && s.dist[j] < bestDist {
                bestDist = s.dist[j]
                best = j
            }
            s.settled[best] = true
            if best == overflow || load[best] < capacity[best] { terminal = best; break }
            s.order.append(Int32(best))
            // Relax the moves of best's cheapest patient to every unsettled column.
            let fromPrice = price[best], row = heapRow[best]
            guard row >= 0 else { continue }    // full at capacity 0: nobody to move
            for b in 0..<c where !s.settled[b] {
                guard let e = top(row + b) else { continue }
                let d = bestDist + e.key + price[b] - fromPrice
                if d < s.dist[b] {
                    s.dist[b] = d
                    s.previous[b] = Int32(best)
                    s.via[b] = e.patient
                }
            }
        }
        let reach = s.dist[terminal]
        for j in s.order { price[Int(j)] += reach - s.dist[Int(j)] }
        load[terminal] += 1
        var b = terminal
        while s.previous[b] >= 0 {
            let a = Int(s.previous[b])
            place(Int(s.via[b]), at: b)
            b = a
        }
        place(k, at: b)
        if terminal < hospitals && load[terminal] == capacity[terminal] { fileMoves(of: terminal) }
    }

    /// Column `a` just filled up: files the possible moves of every patient in it.
    private mutating func fileMoves(of a: Int) {
        heapRow[a] = heaps.count
        heaps += [[Entry]](repeating: [], count: columns)
        for q in 0..<count where column[q] == Int32(a) { fileMoves(patient: q, in: a) }
    }

    private mutating func fileMoves(patient q: Int, in j: Int) {
        let base = q * columns, own = costs[base + j], v = version[q], row = heapRow[j]
        for b in 0..<columns where b != j {
            push(Entry(key: costs[base + b] - own, patient: Int32(q), version: v), into: row + b)
        }
    }

    /// Puts patient `q` in column `j` (its old column, if any, keeps its load: along a path, the column it leaves
    /// receives the next patient) and, if `j` is full, files its possible moves.
    private mutating func place(_ q: Int, at j: Int) {
        column[q] = Int32(j)
        version[q] &+= 1
        if j < hospitals && heapRow[j] >= 0 { fileMoves(patient: q, in: j) }
    }

    /// The valid entry with the least key of heap `h`, after dropping stale ones.
    private mutating func top(_ h: Int) -> Entry? {
        while let e = heaps[h].first {
            if version[Int(e.patient)] == e.version { return e }
            popTop(h)
        }
        return nil
    }

    private mutating func push(_ e: Entry, into h: Int) {
        heaps[h].append(e)
        heaps[h].withUnsafeMutableBufferPointer { a in
            var i = a.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard a[i].key < a[parent].key else { break }
                a.swapAt(i, parent)
                i = parent
            }
        }
    }

    private mutating func popTop(_ h: Int) {
        heaps[h].withUnsafeMutableBufferPointer { a in
            let n = a.count - 1
            a[0] = a[n]
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < n && a[l].key < a[m].key { m = l }
                if r < n && a[r].key < a[m].key { m = r }
                if m == i { break }
                a.swapAt(i, m)
                i = m
            }
        }
        heaps[h].removeLast()
    }

    /// The complementary-slackness conditions (see ``AssignmentSolver``), checked from scratch.
    var isOptimal: Bool {
        var counted = [Int](repeating: 0, count: columns)
        for k in 0..<count {
            let j = Int(column[k])
            guard j >= 0 else { return false }
            counted[j] += 1
            let mine = costs[k * columns + j] + price[j]
            for b in 0..<columns where costs[k * columns + b] + price[b] < mine { return false }
        }
        for j in 0..<columns {
            guard counted[j] == load[j], load[j] <= capacity[j], price[j] >= 0 else { return false }
            if price[j] > 0 && load[j] < capacity[j] { return false }
        }
        return true
    }
}
