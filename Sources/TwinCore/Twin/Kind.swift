extension Twin {
    /// What a twin stands for, after the twin types of Kamel Boulos and Zhang (2021).
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        /// A whole person (whole-body twin).
        case person
        /// A body system or function (cardiovascular, endocrine ...).
        case bodySystem = "body-system"
        case organ
        case cell
        /// Sub-cellular and molecular twins.
        case molecular
        case disease
        /// Other organisms, e.g. a virus.
        case pathogen
        /// A hospital or other organisation.
        case organisation
        /// An aggregate of people (a family, a group, a whole population) that holds its own thread, e.g. the
        /// outbreak runs made for it.
        case population

        /// Parses the command-line word (`person`, `body-system`, `organ`, `cell`, `molecular`, `disease`,
        /// `pathogen`, `organisation`, `population`); also accepts `bodySystem`, `body_system`, `organization`, `subcellular`.
        /// - Throws: ``TwinError`` `invalidKind` listing the valid kinds.
        public init(parsing text: String) throws {
            let t = text.lowercased()
            if let k = Kind(rawValue: t) { self = k; return }
            switch t {
            case "bodysystem", "body_system", "body system", "system": self = .bodySystem
            case "organization", "organisations", "organizations": self = .organisation
            case "subcellular", "sub-cellular": self = .molecular
            case "whole-body", "human": self = .person
            default:
                throw TwinError(.invalidKind, "unknown twin kind '\(text)': valid kinds are \(Kind.allCases.map(\.rawValue).joined(separator: ", "))", value: text)
            }
        }
        public var description: String { rawValue }
    }
}
