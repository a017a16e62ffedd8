import Testing
@testable import TwinSBML

/// Bad input gives a clear error naming the element and line, and nothing runs.
@Suite struct BadInputTests {
    static func document(_ body: String, level: Int = 3, version: Int = 2) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <sbml xmlns="http://www.sbml.org/sbml/level\(level)/version\(version)/core" level="\(level)" version="\(version)">
          <model id="m">
        \(body)
          </model>
        </sbml>
        """
    }

    static let compartment = """
        <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
        """

    func error(_ text: String) -> SBMLError? {
        do {
            let m = try SBMLReader.read(string: text)
            _ = try ModelCompiler.compile(m)
            return nil
        } catch {
            return error
        }
    }

    @Test func malformedXMLNamesTheLine() throws {
        let e = try #require(error("<sbml level=\"3\" version=\"2\">\n<model id=\"m\">\n<listOfSpecies>\n</model>\n</sbml>"))
        #expect(e.code == .malformedXML)
        #expect(e.line == 4)
        #expect(e.message.contains("listOfSpecies"))
    }

    @Test func missingExternalModelFileIsUnsupportedNamingTheFile() throws {
        let text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1" level="3" version="2" comp:required="true">
              <model id="m">
                <comp:listOfSubmodels><comp:submodel comp:id="sub" comp:modelRef="ext"/></comp:listOfSubmodels>
              </model>
              <comp:listOfExternalModelDefinitions>
                <comp:externalModelDefinition comp:id="ext" comp:source="no-such-model-file.xml"/>
              </comp:listOfExternalModelDefinitions>
            </sbml>
            """
        let e = try #require(error(text))
        #expect(e.code == .unsupported)
        #expect(e.message.contains("no-such-model-file.xml"))
        #expect(e.message.contains("externalModelDefinition 'ext'"))
        #expect(e.line == 4) // the submodel that instantiates it
    }

    @Test func fastReactionWithPiecewiseRateIsUnsupportedNamingTheReaction() throws {
        let text = Self.document("""
            \(Self.compartment)
            <listOfSpecies>
              <species id="a" compartment="c" initialAmount="3" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
              <species id="b" compartment="c" initialAmount="3" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
            </listOfSpecies>
            <listOfReactions>
              <reaction id="J" reversible="true" fast="true">
                <listOfReactants><speciesReference species="a" stoichiometry="1" constant="true"/></listOfReactants>
                <listOfProducts><speciesReference species="b" stoichiometry="1" constant="true"/></listOfProducts>
                <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
                  <piecewise><piece><ci>a</ci><apply><gt/><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol><cn>1</cn></apply></piece><otherwise><apply><minus/><ci>b</ci></apply></otherwise></piecewise>
                </math></kineticLaw>
              </reaction>
            </listOfReactions>
            """, level: 3, version: 1)
        let e = try #require(error(text))
        #expect(e.code == .unsupported)
        #expect(e.message.contains("fast reaction 'J'"))
    }

    @Test func unterminatedAttributeAndBadEntity() throws {
        #expect(error("<sbml level=\"3>").map { $0.code } == .malformedXML)
        #expect(error("<sbml a=\"&bogus;\"/>").map { $0.code } == .malformedXML)
    }

    @Test func unknownMathMLElement() throws {
        let text = Self.document(Self.compartment + """
            <listOfParameters><parameter id="p" constant="false" value="1"/></listOfParameters>
            <listOfRules><assignmentRule variable="p"><math xmlns="http://www.w3.org/1998/Math/MathML">
              <apply><frobnicate/><cn>1</cn></apply></math></assignmentRule></listOfRules>
            """)
        let e = try #require(error(text))
        #expect(e.code == .unknownMathML)
        #expect(e.value == "frobnicate")
        #expect(e.line != nil)
    }

    /// `<apply><apply>…</apply></apply>` (Beer_MolBioSystems2014) is the inner expression, as libSBML reads it;
    /// it used to be refused as the unknown element <apply>. With arguments it has no meaning and stays refused.
    @Test func applyWhoseOperatorIsAnApply() throws {
        func rule(_ math: String) -> String {
            Self.document(Self.compartment + """
                <listOfParameters><parameter id="p" constant="false" value="1"/><parameter id="a" constant="true" value="3"/></listOfParameters>
                <listOfRules><assignmentRule variable="p"><math xmlns="http://www.w3.org/1998/Math/MathML">\(math)</math></assignmentRule></listOfRules>
                """)
        }
        let nested = "<apply><divide/><apply><apply><times/><ci> a </ci><cn>4</cn></apply></apply><cn>2</cn></apply>"
        let model = try ModelCompiler.compile(try SBMLReader.read(string: rule(nested)))
        let values = try Simulator(model: model, options: SimulationOptions()).simulate(outputTimes: [0], outputs: [OutputVariable(id: "p")])
        #expect(values == [[6]])
        let e = try #require(error(rule("<apply><apply><times/><ci> a </ci><cn>4</cn></apply><cn>2</cn></apply>")))
        #expect(e.code == .unknownMathML)
        #expect(e.message.contains("1 argument"))
    }

    @Test func undefinedSymbolInKineticLaw() throws {
        let text = Self.document(Self.compartment + """
            <listOfSpecies><species id="S" compartment="c" initialAmount="1" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
            <listOfReactions><reaction id="R" reversible="false">
              <listOfReactants><speciesReference species="S" stoichiometry="1" constant="true"/></listOfReactants>
              <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci> k </ci><ci> S </ci></apply></math></kineticLaw>
            </reaction></listOfReactions>
            """)
        let e = try #require(error(text))
        #expect(e.code == .undefinedSymbol)
        #expect(e.value == "k")
        #expect(e.message.contains("reaction 'R'"))
    }

    @Test func undefinedCompartment() throws {
        let text = Self.document("""
            <listOfSpecies><species id="S" compartment="nowhere" initialAmount="1" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
            """)
        let e = try #require(error(text))
        #expect(e.code == .undefinedSymbol)
        #expect(e.value == "nowhere")
        #expect(e.line == 4)
    }

    @Test func cyclicAssignmentRules() throws {
        let text = Self.document("""
            <listOfParameters><parameter id="a" constant="false"/><parameter id="b" constant="false"/></listOfParameters>
            <listOfRules>
              <assignmentRule variable="a"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><plus/><ci>b</ci><cn>1</cn></apply></math></assignmentRule>
              <assignmentRule variable="b"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>a</ci><cn>2</cn></apply></math></assignmentRule>
            </listOfRules>
            """)
        let e = try #require(error(text))
        #expect(e.code == .cyclicRules)
        #expect(e.message.contains("a") && e.message.contains("b"))
    }

    @Test func divisionByZeroAtStartStopsTheRun() throws {
        let text = Self.document(Self.compartment + """
            <listOfSpecies><species id="S" compartment="c" initialAmount="1" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
            <listOfParameters><parameter id="z" value="0" constant="true"/></listOfParameters>
            <listOfReactions><reaction id="R" reversible="false">
              <listOfReactants><speciesReference species="S" stoichiometry="1" constant="true"/></listOfReactants>
              <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><divide/><ci> S </ci><ci> z </ci></apply></math></kineticLaw>
            </reaction></listOfReactions>
            """)
        let model = try ModelCompiler.compile(try SBMLReader.read(string: text))
        #expect(throws: SBMLError.self) { try Simulator(model: model).simulate(outputTimes: [0, 1], outputs: [OutputVariable(id: "S")]) }
        do {
            _ = try Simulator(model: model).simulate(outputTimes: [0, 1], outputs: [OutputVariable(id: "S")])
        } catch {
            #expect(error.code == .evaluation)
            #expect(error.value == "R")
        }
    }

    @Test func settingsMustBeComplete() throws {
        #expect(throws: SBMLError.self) { try TestSuiteSettings.parse("start: 0\nduration: 5\n") }
        let s = try TestSuiteSettings.parse("start: 0\nduration: 5\nsteps: 50\nvariables: S1, S2\nabsolute: 1e-7\nrelative: 0.0001\namount: S1\nconcentration: S2\n")
        #expect(s.outputTimes.count == 51)
        #expect(s.outputTimes.last == 5)
        #expect(s.outputs == [OutputVariable(id: "S1", concentration: false), OutputVariable(id: "S2", concentration: true)])
    }
}
