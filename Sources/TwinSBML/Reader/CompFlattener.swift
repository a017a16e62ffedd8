/// Flattens the SBML Level 3 hierarchical model composition package (`comp`) into one core model, as the
/// comp specification describes: each submodel's elements are copied with ids prefixed by
/// `submodelId__`, deletions are removed, replaced elements give way to their replacements (every
/// reference is redirected), and `replacedBy` makes a submodel element take the parent's place.
/// Conversion factors on submodels (`timeConversionFactor`, `extentConversionFactor`, including
/// references to a reaction's id in the submodel's math) and on replacements scale the submodel's math.
/// An `externalModelDefinition` whose file cannot be opened is reported as unsupported, naming the file.
enum CompFlattener {
    static let referenceAttributes: Set<String> = ["id", "compartment", "species", "variable", "symbol", "conversionFactor"]
    static let coreLists = ["listOfFunctionDefinitions", "listOfCompartments", "listOfSpecies", "listOfParameters",
                            "listOfInitialAssignments", "listOfRules", "listOfConstraints", "listOfReactions", "listOfEvents"]

    /// Marks a `<ci>` that refers to the parent model (a conversion factor) so prefixing leaves it alone.
    static let keep = "\u{4}"

    static func ci(_ id: String) -> XMLElement { XMLElement(name: "ci", text: keep + id) }
    static func apply(_ op: String, _ args: [XMLElement]) -> XMLElement {
        XMLElement(name: "apply", children: [XMLElement(name: op)] + args)
    }

    /// Scales a submodel's math for `timeConversionFactor` (t_parent = t_sub * tcf) and
    /// `extentConversionFactor`: time becomes time/tcf, rates are divided by tcf, kinetic laws are
    /// multiplied by ecf/tcf, delays are multiplied by tcf.
    static func convert(_ e: XMLElement, time tcf: String?, extent ecf: String?, replaced: Set<String> = [], reactionIDs: Set<String>? = nil) -> XMLElement {
        func mathBody(_ m: XMLElement, _ f: (XMLElement) -> XMLElement) -> XMLElement {
            var out = m
            if let first = m.children.first { out.children = [f(first)] + m.children.dropFirst() }
            return out
        }
        // A reaction id in the submodel's math is its rate in the submodel's units: parent rate * tcf / ecf.
        var reactions = reactionIDs ?? []
        if reactionIDs == nil {
            for list in e.children where list.name == "listOfReactions" {
                for r in list.children where r.name == "reaction" {
                    if let id = r["id"], !replaced.contains(id) { reactions.insert(id) }
                }
            }
        }
        func inner(_ x: XMLElement) -> XMLElement {
            var out = x
            if x.name == "csymbol", (x["definitionURL"] ?? "").hasSuffix("/time"), let tcf {
                return apply("divide", [x, ci(tcf)])
            }
            if x.name == "ci", reactions.contains(x.text.trimmingSpaces) {
                var r = x
                if let tcf { r = apply("times", [r, ci(tcf)]) }
                if let ecf { r = apply("divide", [r, ci(ecf)]) }
                return r
            }
            out.children = x.children.map(inner)
            if x.name == "apply", let head = x.children.first, head.name == "csymbol", let tcf {
                let url = head["definitionURL"] ?? ""
                if url.hasSuffix("/delay"), out.children.count == 3 {
                    out.children[2] = apply("times", [out.children[2], ci(tcf)])
                } else if url.hasSuffix("/rateOf") {
                    return apply("times", [out, ci(tcf)])
                }
            }
            return out
        }
        var out = e
        out.children = e.children.map { c -> XMLElement in
            if c.name == "math" {
                var m = mathBody(c, inner)
                switch e.name {
                case "rateRule":
                    if let tcf { m = mathBody(m) { apply("divide", [$0, ci(tcf)]) } }
                case "kineticLaw":
                    if let ecf { m = mathBody(m) { apply("times", [$0, ci(ecf)]) } }
                    if let tcf { m = mathBody(m) { apply("divide", [$0, ci(tcf)]) } }
                case "delay":
                    if let tcf { m = mathBody(m) { apply("times", [$0, ci(tcf)]) } }
                default: break
                }
                return m
            }
            return convert(c, time: tcf, extent: ecf, replaced: replaced, reactionIDs: reactions)
        }
        return out
    }

    /// For a replaced element with a conversion factor (parent = sub * cf): the submodel's references to
    /// it read parent/cf, and its assignments to it are multiplied by cf.
    static func convertReplaced(_ e: XMLElement, id: String, factor cf: String) -> XMLElement {
        func refs(_ x: XMLElement) -> XMLElement {
            if x.name == "ci" && x.text.trimmingSpaces == id { return apply("divide", [x, ci(cf)]) }
            var out = x
            out.children = x.children.map(refs)
            return out
        }
        var out = e
        let assigns = (e["variable"] == id || e["symbol"] == id) && ["assignmentRule", "rateRule", "initialAssignment", "eventAssignment"].contains(e.name)
        out.children = e.children.map { c -> XMLElement in
            if c.name == "math" {
                var m = refs(c)
                if assigns, let first = m.children.first { m.children[0] = apply("times", [first, ci(cf)]) }
                return m
            }
            return convertReplaced(c, id: id, factor: cf)
        }
        return out
    }

    struct Definitions {
        var models: [String: XMLElement] = [:]
        var external: [String: (source: String, modelRef: String?)] = [:]
        var baseDirectory: String
    }

    static func flatten(document root: XMLElement, level: Int, version: Int, baseDirectory: String = ".") throws(SBMLError) -> SBMLModel {
        guard let model = root.child("model") else { throw SBMLError(.invalidSBML, "no <model> element", line: root.line) }
        let defs = definitions(root, baseDirectory: baseDirectory)
        let flat = try flattenModel(model, defs, depth: 0)
        let clean = rename(flat.model) { $0.hasPrefix(keep) ? String($0.dropFirst()) : $0 }
        return try SBMLReader.readModel(unmark(clean), level: level, version: version)
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
            let bytes: [UInt8]
            do { bytes = try FileBytes.read(path) } catch {
                throw SBMLError(.unsupported, "comp externalModelDefinition '\(ref)' refers to '\(ext.source)', which cannot be opened at '\(path)'; external model files must be present next to the model", value: path, line: line)
            }
            let root = try XMLDocumentParser.parse(bytes)
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

    static func unmark(_ e: XMLElement) -> XMLElement {
        var out = e
        if e.name == "ci" {
            let t = e.text.trimmingSpaces
            if t.hasPrefix(keep) { out.text = String(t.dropFirst()) }
        }
        out.children = e.children.map(unmark)
        return out
    }

    static func isComp(_ e: XMLElement) -> Bool {
        e.prefix == "comp" || ["listOfReplacedElements", "replacedBy", "listOfPorts", "listOfSubmodels", "listOfDeletions"].contains(e.name)
    }

    /// A copy without comp children, with every id reference passed through `f`.
    static func rename(_ e: XMLElement, _ f: (String) -> String) -> XMLElement {
        var out = e
        out.attributes = e.attributes.map { a in referenceAttributes.contains(a.name) ? (a.name, f(a.value)) : a }
        if e.name == "ci" {
            let t = e.text.trimmingSpaces
            out.text = t.hasPrefix(keep) ? t : f(t)
        }
        out.children = e.children.filter { !isComp($0) }.map { rename($0, f) }
        return out
    }

    /// Removes, anywhere in a flat model (outside math), the elements whose id or metaid is in `ids`, and
    /// rules / initial assignments of variables marked "\u{2}id".
    static func remove(_ ids: Set<String>, from model: inout XMLElement) {
        if ids.isEmpty { return }
        func prune(_ e: XMLElement) -> XMLElement {
            var out = e
            out.children = e.children.filter { c in
                if c.name == "math" { return true }
                if let id = c["id"], ids.contains(id) { return false }
                if let mid = c["metaid"], ids.contains(mid) { return false }
                if c.name == "initialAssignment", ids.contains("\u{2}" + (c["symbol"] ?? "")) { return false }
                if c.name.hasSuffix("Rule"), ids.contains("\u{2}" + (c["variable"] ?? "")) { return false }
                return true
            }.map { $0.name == "math" ? $0 : prune($0) }
            return out
        }
        model = prune(model)
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

    /// Flattens a model; also returns the redirections applied inside it (old flattened name -> new).
    static func flattenModel(_ m: XMLElement, _ defs: Definitions, depth: Int) throws(SBMLError) -> (model: XMLElement, redirects: [String: String]) {
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
            let (def, innerDefs) = try resolve(ref, defs, line: s.line)
            let flatSub = try flattenModel(def, innerDefs, depth: depth + 1)
            var sub = flatSub.model
            var replacedFactors: [(String, String)] = []
            func inner(_ name: String) -> String {
                var y = name
                var k = 0
                while let z = flatSub.redirects[y], k < 64 { y = z; k += 1 }
                return y
            }
            var ports: [String: XMLElement] = [:]
            for p in def.list("listOfPorts") where p.name == "port" { if let id = p["id"] { ports[id] = p } }
            var removals = Set<String>()
            for d in s.list("listOfDeletions") where d.name == "deletion" {
                removals.insert(inner(try target(d, ports: ports, submodelID: sid)))
            }
            // Replacements declared in the parent that point into this submodel.
            func scan(_ e: XMLElement) throws(SBMLError) {
                for c in e.children {
                    if c.name == "listOfReplacedElements" {
                        for r in c.children where r.name == "replacedElement" && r["submodelRef"] == sid {
                            if r["deletion"] != nil { continue }
                            let t = inner(try target(r, ports: ports, submodelID: sid))
                            if let cf = r["conversionFactor"] { replacedFactors.append((t, cf)) }
                            removals.insert(t)
                            if let pid = e["id"] {
                                map[sid + "__" + t] = pid
                                // A metaid reference: references to the element use its id.
                                if r["metaIdRef"] != nil || r["portRef"] != nil, let id = idOfMetaid(t, in: sub), id != t {
                                    map[sid + "__" + id] = pid
                                }
                            }
                            // A replaced variable's own rules/initial assignments give way too when the parent has them.
                            if let pid = e["id"], parentDefines(parent, pid) { removals.insert("\u{2}" + t) }
                        }
                    } else if c.name == "replacedBy" && c["submodelRef"] == sid {
                        let t = inner(try target(c, ports: ports, submodelID: sid))
                        // The submodel's element takes the parent's place and keeps the parent's id.
                        if let pid = e["id"] {
                            removeFromParent.insert(pid)
                            map[sid + "__" + t] = pid
                        }
                    } else if !c.name.hasPrefix("listOfReplaced") && c.prefix != "comp" {
                        try scan(c)
                    }
                }
            }
            try scan(m)
            if s["timeConversionFactor"] != nil || s["extentConversionFactor"] != nil {
                // A replaced reaction's rate is the parent's: only the replacement's own factor applies.
                sub = convert(sub, time: s["timeConversionFactor"], extent: s["extentConversionFactor"], replaced: removals)
            }
            for (t, cf) in replacedFactors { sub = convertReplaced(sub, id: t, factor: cf) }
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
        return (merged, map)
    }

    /// The id of the element whose metaid is `metaid`, anywhere in `e` outside math.
    static func idOfMetaid(_ metaid: String, in e: XMLElement) -> String? {
        if e["metaid"] == metaid { return e["id"] }
        for c in e.children where c.name != "math" {
            if let id = idOfMetaid(metaid, in: c) { return id }
        }
        return nil
    }

    /// Whether the parent model has its own rule or initial assignment for `id`.
    static func parentDefines(_ parent: XMLElement, _ id: String) -> Bool {
        parent.list("listOfInitialAssignments").contains { $0["symbol"] == id } || parent.list("listOfRules").contains { $0["variable"] == id }
    }
}
