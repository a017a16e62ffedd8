import Foundation
import TwinCore

/// A category of a person's data in the bank's own category tree, on which consent rules and filters act.
///
/// The tree (a rule on a category covers its descendants):
/// ```
/// clinical
/// ├── vital-signs
/// ├── laboratory
/// │   ├── chemistry
/// │   └── haematology
/// ├── medications
/// ├── conditions
/// │   └── mental-health
/// └── genomics
/// sensors
/// ├── cgm
/// └── wearable
/// ```
/// ``DataClassifier`` places an event in the tree from its code (LOINC, ICD-10 chapters, RxNorm/ATC), its
/// category and its source (an event from a device is sensor data).
public struct DataCategory: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The category's name (`vital-signs`).
    public let name: String
    public init(_ name: String) { self.name = name }

    public static let clinical = DataCategory("clinical")
    public static let vitalSigns = DataCategory("vital-signs")
    public static let laboratory = DataCategory("laboratory")
    public static let chemistry = DataCategory("chemistry")
    public static let haematology = DataCategory("haematology")
    public static let medications = DataCategory("medications")
    public static let conditions = DataCategory("conditions")
    public static let mentalHealth = DataCategory("mental-health")
    public static let genomics = DataCategory("genomics")
    public static let sensors = DataCategory("sensors")
    public static let cgm = DataCategory("cgm")
    public static let wearable = DataCategory("wearable")

    /// Each category's parent (the roots, `clinical` and `sensors`, have none).
    public static let parents: [DataCategory: DataCategory] = [
        .vitalSigns: .clinical, .laboratory: .clinical, .chemistry: .laboratory, .haematology: .laboratory,
        .medications: .clinical, .conditions: .clinical, .mentalHealth: .conditions, .genomics: .clinical,
        .cgm: .sensors, .wearable: .sensors,
    ]
    /// Every category of the tree, sorted by name.
    public static let all: [DataCategory] = ([.clinical, .sensors] + Array(parents.keys)).sorted()

    /// The parent, or nil for a root.
    public var parent: DataCategory? { DataCategory.parents[self] }
    /// This category and its ancestors, from itself up to its root.
    public var lineage: [DataCategory] {
        var out = [self]
        while let p = out.last!.parent { out.append(p) }
        return out
    }
    /// Whether this category is `other` or lies below it.
    public func isWithin(_ other: DataCategory) -> Bool { lineage.contains(other) }

    /// Parses a category name (case-insensitive; `vitalSigns` and `vital-signs` both accepted).
    /// - Throws: ``GovernanceError`` `invalidConsent` naming the text and listing the categories.
    public init(parsing text: String) throws {
        let t = text.lowercased().replacingOccurrences(of: "_", with: "-")
        let plain = t.replacingOccurrences(of: "-", with: "")
        guard let c = DataCategory.all.first(where: { $0.name == t || $0.name.replacingOccurrences(of: "-", with: "") == plain }) else {
            throw GovernanceError(.invalidConsent, "unknown data category '\(text)': categories are \(DataCategory.all.map(\.name).joined(separator: ", "))", value: text)
        }
        self = c
    }

    public static func < (a: DataCategory, b: DataCategory) -> Bool { a.name < b.name }
    public var description: String { name }
    public init(from decoder: any Decoder) throws { name = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(name) }
}

/// Places events in the ``DataCategory`` tree: the most specific categories an event belongs to (a rule on an
/// ancestor covers them through ``DataCategory/isWithin(_:)``).
///
/// Rules, in order: a code listed in ``codes`` (exact system and code); an ICD-10 or ICD-10-CM code of chapter V
/// (`F00`-`F99`) is mental health, any other ICD-10 code a condition; an RxNorm or ATC code is a medication; an
/// event from a device (``TwinCore/Source/Kind/device``) is also sensor data (continuous glucose for the CGM
/// codes). An event matched by none of these is `clinical` only.
public struct DataClassifier: Sendable, Hashable {
    /// Exact codes and their category.
    public var codes: [CodeKey: DataCategory]
    /// The is-a relationships a ``DataSelector/descendants(_:)`` rule follows.
    public var hierarchy: CodeHierarchy

    public init(codes: [CodeKey: DataCategory], hierarchy: CodeHierarchy = .builtIn) { self.codes = codes; self.hierarchy = hierarchy }

    static let loinc = "http://loinc.org"
    static func l(_ code: String) -> CodeKey { CodeKey(system: loinc, code: code) }

    /// The LOINC codes of continuous glucose monitoring (interstitial glucose).
    public static let cgmCodes: Set<CodeKey> = [l("99504-3"), l("105272-9"), l("97507-8")]

    /// The classifier with the bank's table: the LOINC vital signs of the FHIR vital-signs profile, common
    /// chemistry and haematology tests, LOINC genetic-variant observations and the CGM codes.
    public static let standard = DataClassifier(codes: {
        var m: [CodeKey: DataCategory] = [:]
        for c in ["85353-1", "8867-4", "8480-6", "8462-4", "85354-9", "8310-5", "9279-1", "2708-6", "59408-5",
                  "29463-7", "8302-2", "39156-5", "8287-5", "9843-4"] { m[l(c)] = .vitalSigns }
        for c in ["2339-0", "2345-7", "4548-4", "2160-0", "2093-3", "2085-9", "13457-7", "2571-8", "2951-2",
                  "2823-3", "1742-6", "1920-8", "33914-3", "14749-6", "15074-8", "1558-6"] { m[l(c)] = .chemistry }
        for c in ["718-7", "4544-3", "6690-2", "777-3", "789-8", "785-6", "786-4", "787-2", "26464-8"] { m[l(c)] = .haematology }
        for c in ["81247-9", "69548-6", "48018-6", "48004-6", "51958-7", "53037-8", "69547-8"] { m[l(c)] = .genomics }
        for c in cgmCodes { m[c] = .cgm }
        return m
    }())

    /// The most specific categories of an event (at least one).
    public func categories(of event: Event) -> Set<DataCategory> {
        categories(code: event.code.key, category: event.category, source: event.source.kind)
    }

    /// The most specific categories of data with this code, event category and source kind (at least one).
    public func categories(code: CodeKey, category: Event.Category = .observation, source: Source.Kind = .record) -> Set<DataCategory> {
        var out: Set<DataCategory> = []
        if let c = codes[code] { out.insert(c) }
        switch code.system {
        case "http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm":
            out.insert(code.code.uppercased().hasPrefix("F") ? .mentalHealth : .conditions)
        case "http://www.nlm.nih.gov/research/umls/rxnorm", "http://www.whocc.no/atc":
            out.insert(.medications)
        default: break
        }
        if source == .device, !out.contains(.cgm) { out.insert(.wearable) }
        if out.isEmpty { out.insert(.clinical) }
        return out
    }
}

extension Event {
    /// Whether any of this event's categories lies within `category` (under the classifier).
    func isWithin(_ category: DataCategory, _ classifier: DataClassifier) -> Bool {
        classifier.categories(of: self).contains { $0.isWithin(category) }
    }
}
