extension EventDraft {
    /// Builds a draft from command-line text, as `twinbank thread append` takes it.
    ///
    /// - Parameters:
    ///   - code: `SYSTEM:CODE` (see ``Concept/init(parsing:)``).
    ///   - value: a number (a quantity in `unit`, or `1` without one), or another value form
    ///     (``Value/parse(_:unit:)``); with a unit it must be a number or a vector.
    ///   - unit: a UCUM unit for numeric values.
    ///   - at: ISO 8601 instant or `START/END` period; with `now`, any expression of the command-line time
    ///     grammar (``TimeExpression``: `now`, `-2h`, a date, ...).
    ///   - source: `KIND:ID` (default `person:local`).
    ///   - category: an event category word (default `observation`).
    ///   - now: the present for relative times; nil (the default) accepts strict ISO 8601 only, as data files do.
    /// - Throws: ``TwinError`` naming the offending text.
    public static func parse(twin: TwinID, code: String, value: String, unit: String? = nil, at: String,
                             source: String? = nil, category: String? = nil, relativeTo now: Instant? = nil) throws -> EventDraft {
        let concept = try Concept(parsing: code)
        let effective: EffectiveTime
        if let now { effective = try EffectiveTime(parsing: at, relativeTo: now) } else { effective = try EffectiveTime(parsing: at) }
        let v = try Value.parse(value, unit: unit)
        let src = try source.map { try Source(parsing: $0) } ?? Source(.person, "local")
        let cat = try category.map { try Event.Category(parsing: $0) } ?? .observation
        return EventDraft(twin: twin, effective: effective, category: cat, code: concept, value: v, source: src)
    }
}

extension Value {
    /// Parses a value given with an optional unit, as `thread append --value V --unit U` and a CSV thread's
    /// `value` and `unit` columns give it:
    /// - a number → a quantity in `unit` (`1` when the unit is empty or nil);
    /// - with a unit, `[v1,v2,...]` → a vector in that unit; any other text is refused, because a unit says
    ///   the value is a quantity (`abc` with `/min` is an error, not the text "abc /min");
    /// - without a unit, the text is parsed like an attribute value (``Value/parse(_:)``): `true`, a date, a
    ///   concept or plain text.
    /// - Throws: ``TwinError`` `invalidValue` naming the value (a number that is not finite, text with a unit),
    ///   or the unit parser's error for a unit that is not UCUM.
    public static func parse(_ text: String, unit: String?) throws -> Value {
        let value = text.trimmingSpaces
        let u = unit?.trimmingSpaces ?? ""
        if let number = Double(value) {
            guard number.isFinite else {
                throw TwinError(.invalidValue, "value '\(text)' is not a finite number", value: text)
            }
            let unitText = u.isEmpty ? "1" : u
            _ = try UCUMUnit(parsing: unitText)
            return .quantity(Quantity(number, unitText))
        }
        // a decimal comma (114,5 from a European spreadsheet) is not guessed at: 1,234 may be a thousand
        if let comma = value.firstIndex(of: ","), value.filter({ $0 == "," }).count == 1,
           Double(value.replacingCharacters(in: comma...comma, with: ".")) != nil {
            throw TwinError(.invalidValue, "value '\(text)' has a decimal comma: write decimals with a point ('\(value.replacingCharacters(in: comma...comma, with: "."))'); a thousands separator is not read either", value: text)
        }
        guard !u.isEmpty else { return try Value.parse(value) }
        guard value.hasPrefix("[") else {
            throw TwinError(.invalidValue, "value '\(text)' is not a number, but the unit '\(u)' says it is a quantity: give a number (or remove the unit for text)", value: text)
        }
        let parsed = try Value.parse("\(value) \(u)")
        guard case .vector = parsed else {
            throw TwinError(.invalidValue, "value '\(text)' is not a number or a vector, but the unit '\(u)' says it is a quantity", value: text)
        }
        return parsed
    }
}
