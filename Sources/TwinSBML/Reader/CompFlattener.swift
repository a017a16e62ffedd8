/// Flattens the SBML Level 3 hierarchical model composition package (`comp`) into one core model, as the
/// comp specification describes: each submodel's elements are copied with ids prefixed by
/// `submodelId__`, deletions are removed, replaced elements give way to their replacements (every
/// reference is redirected), and `replacedBy` makes a submodel element take the parent's place.
/// Conversion factors on submodels (`timeConversionFactor`, `extentConversionFactor`) and on
/// replacements are reported as unsupported.
enum CompFlattener {
    static let referenceAttributes: Set<String> = ["id", "compartment", "species", "variable", "symbol", "conversionFactor"]
    static let coreLists = ["listOfFunctionDefinitions", "listOfCompartments", "listOfSpecies", "listOfParameters",
                            "listOfInitialAssignments", "listOfRules", "listOfConstraints", "listOfReactions", "listOfEvents"]

    struct Definitions {
        var models: [String: XMLElement] = [:]
        var external: [String: (source: String, modelRef: String?)] = [:]
        var baseDirectory: String
    }

    static func flatten(document root: XMLElement, level: Int, version: Int, baseDirectory: String = ".") throws(SBMLError) -> SBMLModel {
        guard let model = root.child("model") else { throw SBMLError(.invalidSBML, "no <model> element", line: root.line) }
        let defs = definitions(root, baseDirectory: baseDirectory)
        let flat = try flattenModel(model, defs, depth: 0)
        return try SBMLReader.readModel(flat, level: level, version: version)
    }

    static func definitions(_ root: XMLElement, baseDirectory: String) -> Definitions {
        var d = Definitions(baseDirectory: baseDirectory)
        for md in root.list("listOfModelDefinitions") where md.name == "modelDefinition" {
            if let id = md["id"] { d.models[id] = md }
        }
        for em in root.list("listOfExternalModelDefinitions") where em.name == "externalModelDefinition" {
            if let id = em["id"], let src = em["source"] { d.external[id] = (src, em["modelRef"]) }
        }
        return d
    }

    /// Resolves a model reference to its element and the definitions visible from it.
    static func resolve(_ ref: String, _ defs: Definitions, line: Int) throws(SBMLError) -> (XMLElement, Definitions) {
        if let m = defs.models[ref] { return (m, defs) }
        if let ext = defs.external[ref] {
            var path = ext.source
            if path.hasPrefix("file:") { path = String(path.dropFirst(5)) }
            if !path.hasPrefix("/") { path = defs.baseDirectory + "/" + path }
            let root = try XMLDocumentParser.parse(try FileBytes.read(path))
            let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            let inner = definitions(root, baseDirectory: dir.isEmpty ? "." : dir)
            if let mr = ext.modelRef {
                if let m = root.child("model"), m["id"] == mr { return (m, inner) }
                return try resolve(mr, inner, line: line)
            }
            guard let m = root.child("model") else { throw SBMLError(.invalidSBML, "external model '\(path)' has no <model>", value: path, line: line) }
            return (m, inner)
        }
        throw SBMLError(.undefinedSymbol, "submodel refers to model definition '\(ref)', which is not defined", value: ref, line: line)
    }

    static func isComp(_ e: XMLElement) -> Bool {
        e.prefix == "comp" || ["listOfReplacedElements", "replacedBy", "listOfPorts", "listOfSubmodels", "listOfDeletions"].contains(e.name)
    }

    /// A copy without comp children, with every id reference passed through `f`.
    static func rename(_ e: XMLElement, _ f: (String) -> String) -> XMLElement {
        var out = e
        out.attributes = e.attributes.map { a in referenceAttributes.contains(a.name) ? (a.name, f(a.value)) : a }
        if e.name == "ci" { out.text = f(e.text.trimmingSpaces) }
        out.children = e.children.filter { !isComp($0) }.map { rename($0, f) }
        return out
    }

    /// Removes, from every core list of a flat model, the elements whose id or metaid is in `ids`.
    static func remove(_ ids: Set<String>, from model: inout XMLElement) {
        if ids.isEmpty { return }
        for (i, list) in model.children.enumerated() where coreLists.contains(list.name) {
            model.children[i].children = list.children.filter { c in
                !(c["id"].map(ids.contains) ?? false) && !(c["metaid"].map(ids.contains) ?? false)
                    && !(c.name == "initialAssignment" && ids.contains("\u{2}" + (c["symbol"] ?? "")))
                    && !(c.name.hasSuffix("Rule") && ids.contains("\u{2}" + (c["variable"] ?? "")))
            }
            // Elements nested one level deeper (local parameters, event assignments) by metaid or id.
            for (j, c) in model.children[i].children.enumerated() {
                for (k, sub) in c.children.enumerated() where sub.name.hasPrefix("listOf") {
                    model.children[i].children[j].children[k].children = sub.children.filter { x in
                        !(x["metaid"].map(ids.contains) ?? false) && !(x["id"].map(ids.contains) ?? false)
                    }
                }
            }
        }
    }

    /// The name (in the submodel's flattened namespace) that a replacedElement / deletion / sBaseRef
    /// refers to; metaids are returned as they are.
    static func target(_ r: XMLElement, ports: [String: XMLElement], submodelID: String) throws(SBMLError) -> String {
        var name: String
        var nested: XMLElement? = r.child("sBaseRef")
        if let id = r["idRef"] { name = id }
        else if let p = r["portRef"] {
            guard let port = ports[p] else {
                throw SBMLError(.undefinedSymbol, "port '\(p)' of submodel '\(submodelID)' is not defined", value: p, line: r.line)
            }
            if let id = port["idRef"] { name = id } else if let mid = port["metaIdRef"] { name = mid } else {
                throw SBMLError(.unsupported, "comp port '\(p)' without idRef", value: p, line: port.line)
            }
            if nested == nil { nested = port.child("sBaseRef") }
        } else if let mid = r["metaIdRef"] { name = mid }
        else if r["unitRef"] != nil { return "\u{3}unit" }
        else { throw SBMLError(.unsupported, "comp reference without idRef, portRef or metaIdRef", value: r.name, line: r.line) }
        while let n = nested {
            guard let inner = n["idRef"] ?? n["metaIdRef"] ?? n["portRef"] else { break }
            name += "__" + inner
            nested = n.child("sBaseRef")
        }
        return name
    }

    static func flattenModel(_ m: XMLElement, _ defs: Definitions, depth: Int) throws(SBMLError) -> XMLElement {
        if depth > 32 { throw SBMLError(.cyclicRules, "comp submodels instantiate each other without end", value: m["id"], line: m.line) }
        var parent = m
        parent.children = m.children.filter { !isComp($0) }
        var subs: [XMLElement] = []
        var map: [String: String] = [:]
        var removeFromParent = Set<String>()
        for s in m.list("listOfSubmodels") where s.name == "submodel" {
            guard let sid = s["id"], let ref = s["modelRef"] else {
                throw SBMLError(.invalidSBML, "comp:submodel needs id and modelRef", line: s.line)
            }
            for attr in ["timeConversionFactor", "extentConversionFactor"] where s[attr] != nil {
                throw SBMLError(.unsupported, "comp:\(attr) on submodel '\(sid)' is not supported", value: attr, line: s.line)
            }
            let (def, innerDefs) = try resolve(ref, defs, line: s.line)
            var sub = try flattenModel(def, innerDefs, depth: depth + 1)
            var ports: [String: XMLElement] = [:]
            for p in def.list("listOfPorts") where p.name == "port" { if let id = p["id"] { ports[id] = p } }
            var removals = Set<String>()
            for d in s.list("listOfDeletions") where d.name == "deletion" {
                removals.insert(try target(d, ports: ports, submodelID: sid))
            }
            // Replacements declared in the parent that point into this submodel.
            func scan(_ e: XMLElement) throws(SBMLError) {
                for c in e.children {
                    if c.name == "listOfReplacedElements" {
                        for r in c.children where r.name == "replacedElement" && r["submodelRef"] == sid {
                            if r["conversionFactor"] != nil {
                                throw SBMLError(.unsupported, "comp:conversionFactor on a replaced element is not supported", value: "conversionFactor", line: r.line)
                            }
                            if r["deletion"] != nil { continue }
                            let t = try target(r, ports: ports, submodelID: sid)
                            removals.insert(t)
                            if let pid = e["id"] {
                                map[sid + "__" + t] = pid
                            }
                            // A replaced variable's own rules/initial assignments give way too when the parent has them.
                            if let pid = e["id"], parentDefines(parent, pid) { removals.insert("\u{2}" + t) }
                        }
                    } else if c.name == "replacedBy" && c["submodelRef"] == sid {
                        let t = try target(c, ports: ports, submodelID: sid)
                        if let pid = e["id"] {
                            removeFromParent.insert(pid)
                            map[pid] = sid + "__" + t
                        }
                    } else if !c.name.hasPrefix("listOfReplaced") && c.prefix != "comp" {
                        try scan(c)
                    }
                }
            }
            try scan(m)
            remove(removals, from: &sub)
            let prefix = sid + "__"
            subs.append(rename(sub, { prefix + $0 }))
        }
        remove(removeFromParent, from: &parent)
        // Redirect references until stable (a chain of replacements).
        func redirect(_ x: String) -> String {
            var y = x
            var n = 0
            while let z = map[y], n < 64 { y = z; n += 1 }
            return y
        }
        var merged = rename(parent, redirect)
        for sub in subs {
            let r = rename(sub, redirect)
            for list in r.children where coreLists.contains(list.name) {
                if let i = merged.children.firstIndex(where: { $0.name == list.name }) {
                    merged.children[i].children.append(contentsOf: list.children)
                } else {
                    merged.children.append(list)
                }
            }
        }
        // Replaced ids now appear once: drop later duplicates (the parent's element comes first).
        for (i, list) in merged.children.enumerated() where coreLists.contains(list.name) {
            var seen = Set<String>()
            merged.children[i].children = list.children.filter { c in
                guard let id = c["id"] else { return true }
                return seen.insert(id).inserted
            }
        }
        return merged
    }

    /// Whether the parent model has its own rule or initial assignment for `id`.
    static func parentDefines(_ parent: XMLElement, _ id: String) -> Bool {
        parent.list("listOfInitialAssignments").contains { $0["symbol"] == id } || parent.list("listOfRules").contains { $0["variable"] == id }
    }
}
