/// The physical dimension of a unit, as integer exponents of the base quantities.
///
/// UCUM's base units are m, g, s, rad, K, C, cd. Twinbank adds two slots UCUM lacks: amount of substance
/// (`mol`, which UCUM treats as the dimensionless number 6.022e23) so that mass and substance concentrations are
/// never confused, and international units (`[IU]`), which are arbitrary and only commensurable with themselves.
public struct Dimension: Sendable, Hashable, CustomStringConvertible {
    public var length: Int8 = 0
    public var mass: Int8 = 0
    public var time: Int8 = 0
    public var angle: Int8 = 0
    public var temperature: Int8 = 0
    public var charge: Int8 = 0
    public var luminosity: Int8 = 0
    public var amount: Int8 = 0
    public var internationalUnit: Int8 = 0

    public init() {}
    public static let none = Dimension()

    var slots: [Int8] { [length, mass, time, angle, temperature, charge, luminosity, amount, internationalUnit] }
    init(slots s: [Int8]) {
        length = s[0]; mass = s[1]; time = s[2]; angle = s[3]; temperature = s[4]
        charge = s[5]; luminosity = s[6]; amount = s[7]; internationalUnit = s[8]
    }
    static func combine(_ a: Dimension, _ b: Dimension, _ sign: Int8) -> Dimension {
        Dimension(slots: zip(a.slots, b.slots).map { $0 &+ sign &* $1 })
    }
    func power(_ e: Int8) -> Dimension { Dimension(slots: slots.map { $0 &* e }) }

    public var isDimensionless: Bool { self == .none }

    /// For example `L^-3.M` (mass concentration) or `1` when dimensionless.
    public var description: String {
        let names = ["L", "M", "T", "A", "Θ", "Q", "J", "N", "IU"]
        let parts = zip(names, slots).filter { $0.1 != 0 }.map { $0.1 == 1 ? $0.0 : "\($0.0)^\($0.1)" }
        return parts.isEmpty ? "1" : parts.joined(separator: ".")
    }
}
