/// A parsed UCUM unit expression: its dimension, the factor to the base units and, for the temperature
/// scales, an offset.
///
/// Supports the UCUM grammar: prefixes (`Y` ... `y`, `da`), products `.`, quotients `/`, a leading `/`,
/// integer exponents (`m2`, `s-1`, `10*3`), integer factors, parentheses and `{annotations}`. The atom table
/// covers the units of clinical data (the atom table in `UCUMUnit.swift`). A value `v` in this unit is `v * factor + offset`
/// in base units (g, m, s, K, mol ...). Special units with an offset (`Cel`, `[degF]`) may not be combined
/// with other units, as UCUM requires.
public struct UCUMUnit: Sendable, Hashable, CustomStringConvertible {
    /// The expression as given.
    public let expression: String
    public let dimension: Dimension
    /// Multiplier to the base units.
    public let factor: Double
    /// Added after the factor (non-zero only for `Cel` and `[degF]`).
    public let offset: Double
    /// Whether an atom of amount of substance (`mol`, `eq`, `osm`, `kat`, `U`) appears in the expression, even
    /// when it cancels (`mmol/mol`). A dimensionless unit with this flag is a *substance ratio*, which clinical
    /// analytes distinguish from a plain fraction (`%`): see ``isSubstanceRatio`` and ``AnalyteConversion``.
    public let mentionsSubstance: Bool

    /// A dimensionless ratio of amounts of substance such as `mmol/mol` (as opposed to `%` or `1`). UCUM treats
    /// both as plain numbers; HbA1c's IFCC `mmol/mol` and NGSP `%` are related by an equation instead.
    public var isSubstanceRatio: Bool { dimension.isDimensionless && mentionsSubstance }

    public var description: String { expression }

    /// The dimensionless unit `1`.
    public static let one = UCUMUnit(expression: "1", dimension: .none, factor: 1, offset: 0)

    init(expression: String, dimension: Dimension, factor: Double, offset: Double, mentionsSubstance: Bool = false) {
        self.expression = expression; self.dimension = dimension; self.factor = factor; self.offset = offset
        self.mentionsSubstance = mentionsSubstance
    }

    /// Parses a UCUM expression. An empty string is the dimensionless unit `1`.
    /// - Throws: ``TwinError`` `invalidUnit` naming the expression and the part that failed.
    public init(parsing text: String) throws {
        if text.isEmpty { self = UCUMUnit(expression: "", dimension: .none, factor: 1, offset: 0); return }
        var p = UCUMParser(text: text)
        let term = try p.parseMain()
        self.init(expression: text, dimension: term.dimension, factor: term.factor, offset: term.offset, mentionsSubstance: term.substance)
    }

    /// Whether values in the two units measure the same thing (same dimension).
    ///
    /// This is UCUM's arithmetic: `%` and `mmol/mol` are both dimensionless and so commensurable here. For the
    /// value of a clinical code use ``AnalyteConversion``, which keeps them apart unless the analyte relates them.
    public func isCommensurable(with other: UCUMUnit) -> Bool { dimension == other.dimension }

    /// Converts a value in this unit to `target` by UCUM's arithmetic alone (no analyte knowledge: for the value
    /// of a clinical code use ``AnalyteConversion/convert(_:to:for:)``).
    /// - Throws: ``TwinError`` `incommensurableUnits` naming both units.
    public func convert(_ value: Double, to target: UCUMUnit) throws -> Double {
        guard isCommensurable(with: target) else {
            throw TwinError(.incommensurableUnits, "cannot convert '\(expression)' (\(dimension)) to '\(target.expression)' (\(target.dimension)): the units measure different things", value: expression)
        }
        return (value * factor + offset - target.offset) / target.factor
    }

    /// Converts between two unit expressions.
    public static func convert(_ value: Double, from: String, to: String) throws -> Double {
        try UCUMUnit(parsing: from).convert(value, to: UCUMUnit(parsing: to))
    }

    public static func == (a: UCUMUnit, b: UCUMUnit) -> Bool { a.expression == b.expression }
    public func hash(into h: inout Hasher) { h.combine(expression) }
}

/// One unit atom of the table.
struct UnitAtom {
    let dimension: Dimension
    let factor: Double
    let offset: Double
    let metric: Bool
}

extension UCUMUnit {
    /// Decimal prefixes.
    static let prefixes: [String: Double] = [
        "Y": 1e24, "Z": 1e21, "E": 1e18, "P": 1e15, "T": 1e12, "G": 1e9, "M": 1e6, "k": 1e3, "h": 1e2, "da": 1e1,
        "d": 1e-1, "c": 1e-2, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15, "a": 1e-18, "z": 1e-21, "y": 1e-24,
    ]

    /// The atoms known to the parser, with their dimension and factor in base units.
    static let atoms: [String: UnitAtom] = {
        func d(_ l: Int8 = 0, m: Int8 = 0, t: Int8 = 0, a: Int8 = 0, k: Int8 = 0, q: Int8 = 0, cd: Int8 = 0, n: Int8 = 0, iu: Int8 = 0) -> Dimension {
            Dimension(slots: [l, m, t, a, k, q, cd, n, iu])
        }
        let pressure = d(-1, m: 1, t: -2)  // g / (m.s2)
        let energy = d(2, m: 1, t: -2)
        var t: [String: UnitAtom] = [:]
        func add(_ name: String, _ dim: Dimension, _ factor: Double, metric: Bool, offset: Double = 0) {
            t[name] = UnitAtom(dimension: dim, factor: factor, offset: offset, metric: metric)
        }
        // base units
        add("m", d(1), 1, metric: true)
        add("g", d(m: 1), 1, metric: true)
        add("s", d(t: 1), 1, metric: true)
        add("rad", d(a: 1), 1, metric: true)
        add("K", d(k: 1), 1, metric: true)
        add("C", d(q: 1), 1, metric: true)
        add("cd", d(cd: 1), 1, metric: true)
        add("mol", d(n: 1), 1, metric: true)
        // dimensionless
        add("1", .none, 1, metric: false)
        add("%", .none, 0.01, metric: false)
        add("[ppth]", .none, 1e-3, metric: false)
        add("[ppm]", .none, 1e-6, metric: false)
        add("[ppb]", .none, 1e-9, metric: false)
        add("10*", .none, 10, metric: false)
        add("10^", .none, 10, metric: false)
        add("[pi]", .none, Double.pi, metric: false)
        add("deg", d(a: 1), Double.pi / 180, metric: false)
        add("sr", d(a: 2), 1, metric: true)
        // time
        add("min", d(t: 1), 60, metric: false)
        add("h", d(t: 1), 3600, metric: false)
        add("d", d(t: 1), 86_400, metric: false)
        add("wk", d(t: 1), 604_800, metric: false)
        add("mo", d(t: 1), 2_629_800, metric: false)
        add("a", d(t: 1), 31_557_600, metric: false)
        add("a_j", d(t: 1), 31_557_600, metric: false)
        add("mo_j", d(t: 1), 2_629_800, metric: false)
        // volume, mass, length
        add("L", d(3), 1e-3, metric: true)
        add("l", d(3), 1e-3, metric: true)
        add("t", d(m: 1), 1e6, metric: true)
        add("u", d(m: 1), 1.660_539_066_60e-24, metric: true)
        add("[lb_av]", d(m: 1), 453.592_37, metric: false)
        add("[oz_av]", d(m: 1), 28.349_523_125, metric: false)
        add("[in_i]", d(1), 0.0254, metric: false)
        add("[ft_i]", d(1), 0.3048, metric: false)
        add("[mi_i]", d(1), 1609.344, metric: false)
        add("Ao", d(1), 1e-10, metric: false)
        add("[foz_us]", d(3), 2.957_352_956_25e-5, metric: false)
        add("[gal_us]", d(3), 3.785_411_784e-3, metric: false)
        // mechanics
        add("Hz", d(t: -1), 1, metric: true)
        add("N", d(1, m: 1, t: -2), 1000, metric: true)
        add("Pa", pressure, 1000, metric: true)
        add("bar", pressure, 1e8, metric: true)
        add("atm", pressure, 101_325_000, metric: false)
        add("m[Hg]", pressure, 133_322_000, metric: true)
        add("[in_i'Hg]", pressure, 3_386_388.64, metric: false)
        add("m[H2O]", pressure, 9_806_650, metric: true)
        add("J", energy, 1000, metric: true)
        add("cal", energy, 4184, metric: true)
        add("[Cal]", energy, 4_184_000, metric: false)
        add("W", d(2, m: 1, t: -3), 1000, metric: true)
        // electricity
        add("A", d(t: -1, q: 1), 1, metric: true)
        add("V", d(2, m: 1, t: -2, q: -1), 1000, metric: true)
        add("Ohm", d(2, m: 1, t: -1, q: -2), 1000, metric: true)
        add("S", d(-2, m: -1, t: 1, q: 2), 0.001, metric: true)
        add("F", d(-2, m: -1, t: 2, q: 2), 0.001, metric: true)
        // temperature (special units with an offset)
        add("Cel", d(k: 1), 1, metric: true, offset: 273.15)
        add("[degF]", d(k: 1), 5.0 / 9.0, metric: false, offset: 459.67 * 5.0 / 9.0)
        // chemistry and clinical
        add("eq", d(n: 1), 1, metric: true)
        add("osm", d(n: 1), 1, metric: true)
        add("kat", d(t: -1, n: 1), 1, metric: true)
        add("U", d(t: -1, n: 1), 1e-6 / 60, metric: true)
        add("[IU]", d(iu: 1), 1, metric: true)
        add("[iU]", d(iu: 1), 1, metric: true)
        add("[arb'U]", d(iu: 1), 1, metric: false)
        add("[drp]", d(3), 5e-8, metric: false)
        add("[pH]", .none, 1, metric: false)
        return t
    }()
}

/// A recursive-descent parser for UCUM expressions.
struct UCUMParser {
    struct Term { var dimension: Dimension; var factor: Double; var offset: Double; var special: Bool; var substance = false }

    let text: String
    let b: [UInt8]
    var i = 0

    init(text: String) {
        self.text = text
        self.b = Array(text.utf8)
    }

    func fail(_ why: String) -> TwinError {
        TwinError(.invalidUnit, "invalid UCUM unit '\(text)': \(why)", value: text)
    }

    mutating func parseMain() throws -> Term {
        var term: Term
        if i < b.count, b[i] == 47 { // leading '/'
            i += 1
            let t = try parseTerm()
            term = Term(dimension: t.dimension.power(-1), factor: 1 / t.factor, offset: 0, special: t.special, substance: t.substance)
        } else {
            term = try parseTerm()
        }
        guard i == b.count else { throw fail("unexpected '\(Character(UnicodeScalar(b[i])))' at position \(i + 1)") }
        return term
    }

    mutating func parseTerm() throws -> Term {
        var acc = try parseComponent()
        var count = 1
        while i < b.count, b[i] == 46 || b[i] == 47 {
            let divide = b[i] == 47
            i += 1
            let c = try parseComponent()
            count += 1
            acc = Term(dimension: Dimension.combine(acc.dimension, c.dimension, divide ? -1 : 1),
                       factor: divide ? acc.factor / c.factor : acc.factor * c.factor,
                       offset: 0, special: acc.special || c.special, substance: acc.substance || c.substance)
        }
        if count > 1 && acc.special {
            throw fail("a unit with an offset (Cel, [degF]) cannot be combined with other units")
        }
        return acc
    }

    mutating func parseComponent() throws -> Term {
        guard i < b.count else { throw fail("expected a unit at the end") }
        if b[i] == 40 { // (
            i += 1
            let t = try parseTerm()
            guard i < b.count, b[i] == 41 else { throw fail("missing ')'") }
            i += 1
            return try applyExponent(t)
        }
        if b[i] == 123 { // annotation alone = 1
            try skipAnnotation()
            return Term(dimension: .none, factor: 1, offset: 0, special: false)
        }
        // symbol: up to . / ( ) { or end; brackets consumed whole
        let start = i
        while i < b.count {
            let c = b[i]
            if c == 46 || c == 47 || c == 40 || c == 41 || c == 123 { break }
            if c == 91 { // [
                guard let close = b[i...].firstIndex(of: 93) else { throw fail("missing ']'") }
                i = close + 1
                continue
            }
            if c <= 32 || c >= 127 { throw fail("character '\(String(decoding: [c], as: UTF8.self))' is not allowed") }
            i += 1
        }
        let symbol = Array(b[start..<i])
        guard !symbol.isEmpty else { throw fail("expected a unit at position \(start + 1)") }
        if i < b.count, b[i] == 123 { try skipAnnotation() }
        // pure integer factor
        if symbol.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            guard let v = Double(String(decoding: symbol, as: UTF8.self)) else { throw fail("bad number") }
            return Term(dimension: .none, factor: v, offset: 0, special: false)
        }
        // split a trailing signed integer exponent
        var end = symbol.count
        while end > 0, symbol[end - 1] >= 48, symbol[end - 1] <= 57 { end -= 1 }
        var exponent: Int8 = 1
        var atomEnd = end
        if end < symbol.count {
            if end > 0, symbol[end - 1] == 45 || symbol[end - 1] == 43 { atomEnd = end - 1 }
            guard let e = Int8(String(decoding: symbol[atomEnd...], as: UTF8.self)) else { throw fail("bad exponent") }
            exponent = e
        }
        let name = String(decoding: symbol[..<atomEnd], as: UTF8.self)
        guard !name.isEmpty else { throw fail("exponent without a unit") }
        let atom = try resolve(name)
        if atom.offset != 0 && exponent != 1 { throw fail("a unit with an offset (\(name)) cannot take an exponent") }
        let e = Int(exponent)
        return Term(dimension: atom.dimension.power(exponent), factor: Foundation_pow(atom.factor, e), offset: atom.offset, special: atom.offset != 0,
                    substance: atom.dimension.amount != 0)
    }

    mutating func applyExponent(_ t: Term) throws -> Term {
        let start = i
        if i < b.count, b[i] == 45 || b[i] == 43 { i += 1 }
        while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
        guard i > start else { return t }
        guard let e = Int8(String(decoding: b[start..<i], as: UTF8.self)) else { throw fail("bad exponent") }
        return Term(dimension: t.dimension.power(e), factor: Foundation_pow(t.factor, Int(e)), offset: 0, special: t.special, substance: t.substance)
    }

    mutating func skipAnnotation() throws {
        guard let close = b[i...].firstIndex(of: 125) else { throw fail("missing '}'") }
        i = close + 1
    }

    func resolve(_ name: String) throws -> (dimension: Dimension, factor: Double, offset: Double) {
        if let a = UCUMUnit.atoms[name] { return (a.dimension, a.factor, a.offset) }
        for plen in [2, 1] where name.utf8.count > plen {
            let p = String(name.prefix(plen)), rest = String(name.dropFirst(plen))
            if let pf = UCUMUnit.prefixes[p], let a = UCUMUnit.atoms[rest] {
                guard a.metric else { throw fail("unit '\(rest)' does not take the prefix '\(p)'") }
                guard a.offset == 0 else { throw fail("unit '\(rest)' does not take a prefix") }
                return (a.dimension, a.factor * pf, 0)
            }
        }
        throw fail("unknown unit '\(name)'")
    }
}

@inline(__always)
func Foundation_pow(_ x: Double, _ e: Int) -> Double {
    var r = 1.0
    let n = abs(e)
    for _ in 0..<n { r *= x }
    return e < 0 ? 1 / r : r
}
