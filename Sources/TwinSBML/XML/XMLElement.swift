/// One element of a parsed XML document: its local name (prefix removed), its namespace prefix, its
/// attributes (local names; a prefixed attribute such as `comp:idRef` is stored as `idRef`), its child
/// elements in document order, the character data directly inside it, and the line where it starts.
public struct XMLElement: Sendable {
    public var name: String
    public var prefix: String
    public var attributes: [(name: String, value: String)]
    public var children: [XMLElement]
    public var text: String
    public var line: Int

    public init(name: String, prefix: String = "", attributes: [(name: String, value: String)] = [], children: [XMLElement] = [], text: String = "", line: Int = 0) {
        self.name = name
        self.prefix = prefix
        self.attributes = attributes
        self.children = children
        self.text = text
        self.line = line
    }

    /// The value of the attribute with this local name, if present.
    public subscript(attribute: String) -> String? {
        for a in attributes where a.name == attribute { return a.value }
        return nil
    }

    /// The first child with this local name.
    public func child(_ name: String) -> XMLElement? {
        children.first { $0.name == name }
    }

    /// The children of the first child named `list` (e.g. `listOfSpecies`), or an empty array.
    public func list(_ list: String) -> [XMLElement] {
        child(list)?.children ?? []
    }
}
