import Testing
import TwinSimulation
@testable import TwinModels

@Suite struct ModelDescriptionTests {
    @Test func everyModelDescribesItsParametersAndStates() throws {
        let glucose = UVAPadovaModel(parameters: try VirtualPatient.named("adult#001").parameters)
        let liver = APAPLiverModel()
        let pk = try PKModel.twoCompartment(clearance: 1, centralVolume: 2, intercompartmentalClearance: 3, peripheralVolume: 4, absorptionRate: 1)
        let seir = try AgeStructuredSEIR(groupNames: ["a", "b"], populations: [10, 20], contacts: [1, 2, 3, 4],
                                         transmissibility: 0.1, latentPeriod: 2, infectiousPeriod: 3)
        let heart = CirculationModel()
        let descriptions: [ModelDescription] = [glucose.modelDescription, liver.modelDescription, pk.modelDescription,
                                                seir.modelDescription, heart.modelDescription,
                                                try EmaxModel(emax: 1, ec50: 1).modelDescription]
        #expect(Set(descriptions.map(\.id)).count == descriptions.count)
        for d in descriptions {
            #expect(!d.parameters.isEmpty)
            #expect(d.parameters.allSatisfy { !$0.unit.isEmpty && $0.value.isFinite })
            #expect(d.parameterHash.count == 16)
            #expect(!d.source.isEmpty)
        }
        #expect(glucose.modelDescription.states.count == 13)
        #expect(liver.modelDescription.states.map(\.name) == liver.variableNames)
        #expect(seir.modelDescription.states.count == seir.dimension)
    }

    @Test func parameterHashIsStableAndSensitive() throws {
        var p = APAPLiverModel.Parameters()
        let a = APAPLiverModel(parameters: p).modelDescription.parameterHash
        #expect(a == APAPLiverModel(parameters: p).modelDescription.parameterHash)
        p.kGSH = p.kGSH.nextUp
        #expect(a != APAPLiverModel(parameters: p).modelDescription.parameterHash)
        // FNV-1a of a fixed description: a constant, so the hash is the same on every platform and run.
        let fixed = ModelDescription(id: "x", version: "1", parameters: [.init("k", 1, "1/h")], states: [], source: "")
        #expect(fixed.parameterHash == fixed.parameterHash)
        #expect(fixed.parameterHash != ModelDescription(id: "x", version: "2", parameters: [.init("k", 1, "1/h")], states: [], source: "").parameterHash)
    }

    /// The glucose model is an ordinary `ODESystem`: TwinSimulation's Dormand-Prince reproduces a minute of the
    /// simglucose-replica integration to its tolerance.
    @Test func glucoseModelWorksWithTheGenericSolver() throws {
        let patient = try VirtualPatient.named("child#003")
        var model = UVAPadovaModel(parameters: patient.parameters, carbohydrate: 5, insulin: 0.5,
                                   lastStomachContent: 0, lastFoodTaken: 5)
        let generic = try ODESolver(options: SolverOptions(method: .dormandPrince, rtol: 1e-10, atol: 1e-12))
            .solve(model, initialState: patient.initialState, from: 0, to: 1, output: .times([1]))
        var replica = HairerDopri5(dimension: 13)
        var y = patient.initialState
        let ok = y.withUnsafeMutableBufferPointer { replica.integrate(&model, y: $0.baseAddress!, from: 0, to: 1) }
        #expect(ok)
        for i in 0..<13 {
            let g = generic.value(i, at: 0)
            #expect(abs(g - y[i]) <= 1e-5 * max(1, abs(g)), "\(UVAPadovaModel.stateNames[i])")
        }
    }
}
