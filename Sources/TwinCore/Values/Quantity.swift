/// A measured amount with a UCUM unit (`72 kg`, `5.4 mmol/L`). The unit `1` (or empty) means dimensionless.
public struct Quantity: Sendable, Hashable, Codable, CustomStringConvertible {
    public var value: Double
    /// A UCUM expression; validated when parsed or appended to the bank, not by this initialiser.
    public var unit: String

    public init(_ value: Double, _ unit: String = "1") {
        self.value = value
        self.unit = unit
    }

    /// The parsed unit.
    /// - Throws: ``TwinError`` `invalidUnit`.
    public func ucum() throws -> UCUMUnit { try UCUMUnit(parsing: unit) }

    /// The same amount in another commensurable unit.
    /// - Throws: ``TwinError`` `invalidUnit` or `incommensurableUnits`.
    public func converted(to target: String) throws -> Quantity {
        Quantity(try UCUMUnit.convert(value, from: unit, to: target), target)
    }

    /// `72 kg`; the unit is left out when it is `1` or empty.
    public var description: String {
        let v = Value.format(value)
        return unit.isEmpty || unit == "1" ? v : "\(v) \(unit)"
    }

    /// Parses `72 kg`, `72kg`, `5.4 mmol/L`, `120` (dimensionless), `98.6 [degF]`.
    /// - Throws: ``TwinError`` `invalidValue` or `invalidUnit` naming the text.
    public init(parsing text: String) throws {
        let t = text.trimmingSpaces
        let u = Array(t.utf8)
        var i = 0
        if i < u.count, u[i] == 43 || u[i] == 45 { i += 1 }
        while i < u.count, (u[i] >= 48 && u[i] <= 57) || u[i] == 46 { i += 1 }
        if i < u.count, u[i] == 101 || u[i] == 69 { // exponent, only if digits follow
            var j = i + 1
            if j < u.count, u[j] == 43 || u[j] == 45 { j += 1 }
            if j < u.count, u[j] >= 48, u[j] <= 57 {
                while j < u.count, u[j] >= 48, u[j] <= 57 { j += 1 }
                i = j
            }
        }
        let number = String(decoding: u[..<i], as: UTF8.self)
        guard let v = Double(number), v.isFinite else {
            throw TwinError(.invalidValue, "malformed quantity '\(text)': expected a number and a UCUM unit such as '72 kg'", value: text)
        }
        let unit = String(decoding: u[i...], as: UTF8.self).trimmingSpaces
        let unitText = unit.isEmpty ? "1" : unit
        _ = try UCUMUnit(parsing: unitText)
        self.init(v, unitText)
    }
}

/// A series of numbers with one unit, such as a waveform or a sampled signal.
public struct Vector: Sendable, Hashable, Codable, CustomStringConvertible {
    public var values: [Double]
    public var unit: String
    public init(_ values: [Double], unit: String = "1") {
        self.values = values
        self.unit = unit
    }
    /// `[0.1,0.4,0.2] mV`
    public var description: String {
        let body = "[" + values.map(Value.format).joined(separator: ",") + "]"
        return unit.isEmpty || unit == "1" ? body : "\(body) \(unit)"
    }
}
