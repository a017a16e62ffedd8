extension EventDraft {
    /// Builds a draft from command-line text, as `twinbank thread append` takes it.
    ///
    /// - Parameters:
    ///   - code: `SYSTEM:CODE` (see ``Concept/init(parsing:)``).
    ///   - value: a number (a quantity in `unit`, or `1` without one); otherwise, with a unit, `VALUE UNIT` is
    ///     parsed; without, the text is parsed like an attribute value (``Value/parse(_:)``), so `true`,
    ///     a date, a concept or plain text.
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
        let v: Value
        let trimmedUnit = unit?.trimmingSpaces
        if let number = Double(value.trimmingSpaces) {
            guard number.isFinite else {
                throw TwinError(.invalidValue, "value '\(value)' is not a finite number", value: value)
            }
            let u = (trimmedUnit?.isEmpty ?? true) ? "1" : trimmedUnit!
            _ = try UCUMUnit(parsing: u)
            v = .quantity(Quantity(number, u))
        } else if let u = trimmedUnit, !u.isEmpty {
            v = try Value.parse("\(value) \(u)")
        } else {
            v = try Value.parse(value)
        }
        let src = try source.map { try Source(parsing: $0) } ?? Source(.person, "local")
        let cat = try category.map { try Event.Category(parsing: $0) } ?? .observation
        return EventDraft(twin: twin, effective: effective, category: cat, code: concept, value: v, source: src)
    }
}
