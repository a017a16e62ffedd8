import Testing
import TwinModels
@testable import TwinSync

/// The glucose twin's process model given the person's own parameters must reproduce the person: a twin that
/// eats a trace's announced carbohydrate differently from how the person ate it (all at the minute of the
/// announcement instead of at 5 g/min) is off by 17 mg/dL RMS on child#008's day whatever its parameters.
@Suite("Glucose twin process")
struct GlucoseTwinProcessTests {
    @Test("the patient's own parameters reproduce the simulated day", arguments: [
        ("child#008", "7:45,12:70,18:80"),
        ("adolescent#002", "6:60,6.1:20,11.5:40,19:90"),
        ("adult#005", "8:60,13:90,19:70,22:20"),
    ])
    func ownParametersReproduceTheTruth(patient name: String, meals: String) throws {
        let patient = try VirtualPatient.named(name)
        let truth = try GlucoseSimulator.run(GlucoseScenario(patient: patient, meals: try MealPlan(parsing: meals), hours: 24))
        let process = try GlucoseTwinProcess(population: patient.parameters, carbohydrate: truth.carbohydrate, insulin: truth.insulin,
                                             estimated: [], noiseRate: [Double](repeating: 0, count: 14))
        #expect(process.eaten.reduce(0, +) == truth.carbohydrate.reduce(0, +))
        // propagated a minute at a time and five minutes at a time (as the filters do between CGM readings)
        for step in [1, 5] {
            var x = patient.initialState + [0]
            var squares = 0.0, worst = 0.0, count = 0
            for m in stride(from: 0, to: truth.bg.count - step, by: step) {
                try x.withUnsafeMutableBufferPointer { try process.propagate($0, from: Double(m), over: Double(step)) }
                let e = x[12] / patient.parameters.Vg - truth.bg[m + step]
                squares += e * e; worst = max(worst, abs(e)); count += 1
            }
            let rms = (squares / Double(count)).squareRoot()
            #expect(rms < 0.01, "\(name) \(meals), steps of \(step) min: RMS \(rms) mg/dL, worst \(worst)")
            #expect(worst < 0.05)
        }
    }
}
