import Foundation
import Testing
import TwinBank
import TwinCore

/// Aggregate queries never silently find nobody (issue 22, defect 4): the sex/gender vocabulary, the derived
/// `age` and `birthYear`, errors naming an unknown attribute, code or missing unit, unknown twins counted,
/// an existing id refused unless replaced, forks left out unless asked for.
@Suite struct AggregateQueryTests {
    static let hba1c = Concept.loinc("4548-4", "Hemoglobin A1c")
    static let weight = Concept.loinc("29463-7", "Body weight")
    static let fhir = Source(.record, "fhir")

    /// A person twin shaped as `fhir import` writes it (PatientMapping): `gender`, `birthDate` and the origin,
    /// `name`, `address`, `fhir.id`, optionally `deceased`.
    static func patient(_ id: TwinID, gender: String?, birth: String?, deceased: String? = nil) -> Twin {
        var a: [String: Value] = ["name": .text("Patient \(id)"), "address": .text("1 Main St, Boston, MA"), "fhir.id": .text("fhir-\(id)")]
        if let gender { a["gender"] = .text(gender) }
        if let birth { a["birthDate"] = .date(t(birth)) }
        if let deceased { a["deceased"] = .date(t(deceased)) }
        return Twin(id: id, kind: .person, attributes: a, dataSources: [Twin.DataSourceBinding(source: "record:fhir", cadence: "on-visit")],
                    origin: birth.map(t))
    }

    /// Five patients as imported from FHIR, evaluated on 2026-01-01: ann (F, 1981, HbA1c 7.1 %), bea (F, 1996,
    /// HbA1c 5.6 %), cid (M, 1975, no HbA1c), dan (M, 1946, died 1989 at 42), eve (F, no birth date), and an
    /// organisation twin (no gender, no birth date, as FHIR import writes an Organization).
    static func fhirBank(_ kind: StorageKind) throws -> Bank {
        let bank = try makeBank(kind)
        try bank.createTwin(patient("ann", gender: "female", birth: "1981-07-23"))
        try bank.createTwin(patient("bea", gender: "female", birth: "1996-12-18"))
        try bank.createTwin(patient("cid", gender: "male", birth: "1975-10-12"))
        try bank.createTwin(patient("dan", gender: "male", birth: "1946-10-19", deceased: "1989-01-08T00:41:27Z"))
        try bank.createTwin(patient("eve", gender: "female", birth: nil))
        try bank.createTwin(Twin(id: "clinic", kind: .organisation, attributes: ["name": .text("Clinic"), "fhir.id": .text("org-1")]))
        try bank.append([obs("ann", "2025-06-01", hba1c, 7.1, "%", source: fhir), obs("bea", "2025-06-01", hba1c, 5.6, "%", source: fhir),
                         obs("ann", "2025-06-01", weight, 75.9, "kg", source: fhir), obs("cid", "2025-06-01", weight, 89.7, "kg", source: fhir),
                         obs("eve", "2025-06-01", weight, 61, "kg", source: fhir)])
        return bank
    }

    func members(_ bank: Bank, _ id: AggregateID, asOf: Instant = t("2026-01-01")) throws -> [TwinID] {
        try bank.members(of: id, asOf: asOf).members
    }

    /// Expects `invalidQuery` (or another code) whose message contains every one of `words`.
    func expectRefused(_ code: BankError.Code = .invalidQuery, saying words: [String], sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(code) saying \(words), nothing was thrown", sourceLocation: sourceLocation)
        } catch let e as BankError {
            #expect(e.code == code, "\(e)", sourceLocation: sourceLocation)
            for w in words { #expect(e.message.contains(w), "'\(e.message)' does not say '\(w)'", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("expected a BankError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: StorageKind.allCases)
    func sexAndGenderAreOneAttribute(kind: StorageKind) throws {
        let bank = try Self.fhirBank(kind)
        // the README's own example in a FHIR-imported bank, which stores `gender`
        try bank.createAggregate("women", where: "kind = person and sex = female")
        #expect(try members(bank, "women") == ["ann", "bea", "eve"])
        try bank.createAggregate("women-g", where: "gender = female")
        #expect(try members(bank, "women-g") == ["ann", "bea", "eve"])
        // the organisation has no sex: never a member, and not counted as unknown (no organisation records it)
        try bank.createAggregate("men", where: "sex != female")
        #expect(try members(bank, "men") == ["cid", "dan"])
        try bank.createAggregate("not-women", where: "not sex = female")
        let notWomen = try bank.members(of: "not-women", asOf: t("2026-01-01"))
        #expect(notWomen.members == ["cid", "dan"] && notWomen.unknown.isEmpty)
        try bank.createAggregate("women-a1c", where: "kind = person and sex = female and loinc:4548-4 > 6.5 % within 365d")
        let a1c = try bank.members(of: "women-a1c", asOf: t("2026-01-01"))
        #expect(a1c.members == ["ann"])
        #expect(a1c.unknown.map(\.twin) == ["eve"] && a1c.unknown[0].missing == ["loinc:4548-4"])
        // a twin created by hand with `sex` answers `gender` too
        try bank.createTwin(Twin(id: "fay", kind: .person, attributes: ["sex": .text("female"), "birthDate": .date(t("2000-01-01"))]))
        try bank.createAggregate("women-now", where: "gender = female")
        #expect(try members(bank, "women-now") == ["ann", "bea", "eve", "fay"])
        // a value outside the administrative gender that no twin has is named
        expectRefused(saying: ["'woman'", "male, female, other, unknown"]) { try bank.createAggregate("x", where: "sex = woman") }
    }

    @Test(arguments: StorageKind.allCases)
    func ageAndBirthYearAreDerived(kind: StorageKind) throws {
        let bank = try Self.fhirBank(kind)
        try bank.createAggregate("over-40", where: "age > 40")
        let over = try bank.members(of: "over-40", asOf: t("2026-01-01"))
        // ann 44, cid 50, dan 42 at his death in 1989; bea 29; eve has no birth date: unknown, counted
        #expect(over.members == ["ann", "cid", "dan"])
        #expect(over.unknown == [UndecidedTwin(twin: "eve", missing: ["age"])])
        #expect(over.unknownByOperand.map(\.operand) == ["age"] && over.unknownByOperand[0].twins == 1)
        // whole years at the evaluation time: ann turns 45 on 2026-07-23
        try bank.createAggregate("over-45", where: "age >= 45")
        #expect(try members(bank, "over-45", asOf: t("2026-07-22T23:59Z")) == ["cid"])
        #expect(try members(bank, "over-45", asOf: t("2026-07-23")) == ["ann", "cid"])
        // the bank's clock when no time is given (2026-01-01 and on)
        #expect(try bank.members(of: "over-45").members == ["cid"])
        // a time unit, and `not` keeps an unknown unknown
        try bank.createAggregate("young", where: "age < 360 mo")
        #expect(try members(bank, "young") == ["bea"])
        try bank.createAggregate("not-over-40", where: "not age > 40")
        let notOver = try bank.members(of: "not-over-40", asOf: t("2026-01-01"))
        #expect(notOver.members == ["bea"] && notOver.unknown.map(\.twin) == ["eve"])
        try bank.createAggregate("eighties", where: "birthYear >= 1980 and birthYear < 1990")
        #expect(try members(bank, "eighties") == ["ann"])
        expectRefused(saying: ["age", "number of years"]) { try bank.createAggregate("x", where: "age > old") }
        expectRefused(saying: ["age", "'kg'"]) { try bank.createAggregate("x", where: "age > 40 kg") }
        expectRefused(saying: ["birthYear", "1980"]) { try bank.createAggregate("x", where: "birthYear > 1980-01-01") }
        expectRefused(saying: ["'within 365d' applies to a code's values, not to 'age'"]) { try bank.createAggregate("x", where: "age > 40 within 365d") }
        // a bank whose twins have no birth date: age names the attribute it needs
        let bare = try makeBank(kind)
        try bare.createTwin(Self.patient("zoe", gender: "female", birth: nil))
        expectRefused(saying: ["'age'", "birthDate", "attributes in this bank: address, fhir.id, gender, name"]) {
            try bare.createAggregate("x", where: "age > 40")
        }
    }

    /// A comparison in another unit than the code's values converts as clinicians convert it (``AnalyteConversion``):
    /// HbA1c 48 mmol/mol is 6.5 % by the IFCC-NGSP master equation, not 4.8 % by UCUM's plain ratio (issue 22, defect 2).
    @Test(arguments: StorageKind.allCases)
    func codeComparisonsConvertThroughTheAnalyte(kind: StorageKind) throws {
        let bank = try Self.fhirBank(kind)
        // ann 7.1 % (54 mmol/mol), bea 5.6 % (38 mmol/mol)
        try bank.createAggregate("ifcc", where: "loinc:4548-4 > 48 mmol/mol")
        #expect(try members(bank, "ifcc") == ["ann"])
        try bank.createAggregate("ifcc-low", where: "loinc:4548-4 < 40 mmol/mol")
        #expect(try members(bank, "ifcc-low") == ["bea"])
        // a unit no analyte conversion relates to HbA1c is refused, not compared as a plain ratio
        expectRefused(saying: ["'mg/dL'"]) { try bank.createAggregate("x", where: "loinc:4548-4 > 6.5 mg/dL") }
    }

    @Test(arguments: StorageKind.allCases)
    func unknownAttributesCodesAndMissingUnitsAreNamed(kind: StorageKind) throws {
        let bank = try Self.fhirBank(kind)
        let inventory = "attributes in this bank: address, birthDate, deceased, fhir.id, gender, name; derived: age, birthYear"
        expectRefused(saying: ["no twin has attribute 'ethnicity'", inventory]) { try bank.createAggregate("x", where: "ethnicity = hispanic") }
        // a derived attribute that does not exist
        expectRefused(saying: ["no twin has attribute 'bmi'", inventory]) { try bank.createAggregate("x", where: "sex = female and bmi > 30") }
        expectRefused(saying: ["'birthdate'", "did you mean 'birthDate'?"]) { try bank.createAggregate("x", where: "birthdate < 1980-01-01") }
        // a value of another type than the attribute's or code's, and an id no twin has
        expectRefused(saying: ["'birthDate' is a date", "'1980'", "1980-01-01"]) { try bank.createAggregate("x", where: "birthDate < 1980") }
        expectRefused(saying: ["loinc:4548-4 has quantities in '%'", "'high'"]) { try bank.createAggregate("x", where: "loinc:4548-4 = high") }
        expectRefused(saying: ["no twin has id 'zed'"]) { try bank.createAggregate("x", where: "id = zed or sex = female") }
        try bank.createAggregate("born-before", where: "birthDate < 1980-01-01 or id = ann")
        #expect(try members(bank, "born-before") == ["ann", "cid", "dan"])
        try bank.createTwin(Twin(id: "1001", kind: .person, attributes: ["gender": .text("other")]))
        try bank.createAggregate("numbered", where: "id = 1001")
        #expect(try members(bank, "numbered") == ["1001"])
        // a code no twin has any value of
        expectRefused(saying: ["no twin has any value of loinc:2339-0"]) { try bank.createAggregate("x", where: "loinc:2339-0 > 100 mg/dL") }
        // a comparison without its unit, for codes whose values have one (HbA1c in % is not a plain number)
        expectRefused(saying: ["'loinc:4548-4 > 6.5' has no unit", "'%'", "loinc:4548-4 > 6.5 %"]) {
            try bank.createAggregate("x", where: "loinc:4548-4 > 6.5")
        }
        expectRefused(saying: ["'loinc:29463-7 > 80' has no unit", "'kg'"]) { try bank.createAggregate("x", where: "loinc:29463-7 > 80") }
        expectRefused(saying: ["'mg/dL'", "does not convert", "'%'"]) { try bank.createAggregate("x", where: "loinc:4548-4 > 6.5 mg/dL") }
        // the same for attributes with units
        try bank.createTwin(Twin(id: "gus", kind: .person, attributes: ["weight": .quantity(Quantity(72, "kg"))]))
        expectRefused(saying: ["'weight > 70' has no unit", "'kg'"]) { try bank.createAggregate("x", where: "weight > 70") }
        try bank.createAggregate("heavy", where: "weight > 150 [lb_av]")
        #expect(try members(bank, "heavy") == ["gus"])
        // with units, both work; nothing was written by the refusals
        try bank.createAggregate("heavy-thread", where: "loinc:29463-7 > 80000 g")
        #expect(try members(bank, "heavy-thread") == ["cid"])
        #expect(try bank.aggregateIDs() == ["born-before", "heavy", "heavy-thread", "numbered"])
        // an empty bank says so
        let empty = try makeBank(kind)
        expectRefused(saying: ["'sex'", "this bank has no twins yet"]) { try empty.createAggregate("x", where: "sex = female") }
        try empty.createAggregate("people", where: "kind = person")
        #expect(try empty.members(of: "people").members.isEmpty)
    }

    @Test(arguments: StorageKind.allCases)
    func reusingAnIDIsRefusedUnlessReplaced(kind: StorageKind) throws {
        let bank = try Self.fhirBank(kind)
        let first = try bank.createAggregate("cohort", where: "sex = female")
        expectRefused(.duplicateAggregate, saying: ["'cohort' already exists", "where sex = female", "--replace"]) {
            try bank.createAggregate("cohort", where: "sex = male")
        }
        expectRefused(.duplicateAggregate, saying: ["'cohort' already exists"]) { try bank.createAggregate("cohort", members: ["cid"]) }
        #expect(try bank.members(of: "cohort").definition == first)
        try bank.createAggregate("cohort", where: "sex = male", replace: true)
        #expect(try members(bank, "cohort") == ["cid", "dan"])
        try bank.createAggregate("cohort", members: ["ann"], replace: true)
        #expect(try members(bank, "cohort") == ["ann"])
        expectRefused(.duplicateAggregate, saying: ["'cohort' already exists", "1 explicit member(s)"]) {
            try bank.createAggregate("cohort", members: ["bea"])
        }
    }

    @Test(arguments: StorageKind.allCases)
    func forksAreMembersOnlyWhenAskedFor(kind: StorageKind) throws {
        let bank = try Self.fhirBank(kind)
        try bank.fork("ann", at: t("2025-07-01"), as: "ann-what-if")
        try bank.createAggregate("women", where: "sex = female and loinc:4548-4 > 6.5 %")
        let m = try bank.members(of: "women", asOf: t("2026-01-01"))
        #expect(m.members == ["ann"])
        #expect(m.forksExcluded == 1)
        try bank.createAggregate("women-and-forks", where: "sex = female and loinc:4548-4 > 6.5 %", includeForks: true)
        let f = try bank.members(of: "women-and-forks", asOf: t("2026-01-01"))
        #expect(f.members == ["ann", "ann-what-if"] && f.forksExcluded == 0)
        #expect(f.definition.includeForks == true && m.definition.includeForks == nil)
        // an explicit list names whom it names
        try bank.createAggregate("pair", members: ["ann", "ann-what-if"])
        #expect(try members(bank, "pair") == ["ann", "ann-what-if"])
    }

    @Test(arguments: [("1981-07-23", "2026-07-22T23:59:59Z", 44), ("1981-07-23", "2026-07-23", 45), ("2000-02-29", "2001-02-28", 0),
                      ("2000-02-29", "2001-03-01", 1), ("2000-02-29", "2004-02-29", 4), ("1990-05-05", "1990-05-05", 0)])
    func wholeYears(birth: String, at: String, years: Int) {
        #expect(t(at).wholeYears(since: t(birth)) == years)
    }

    @Test func wholeYearsBeforeBirthAreUnknown() {
        #expect(t("1990-01-01").wholeYears(since: t("2000-01-01")) == nil)
        let d = t("1969-12-31T23:00Z").utcDate
        #expect(d.year == 1969 && d.month == 12 && d.day == 31)
    }
}
