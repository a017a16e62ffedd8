import TwinBank
import TwinCore

extension ExposureScenario {
    /// The scenario with each region's population the number of `aggregate`'s person twins living there (their home,
    /// else their latest location ping, placed in `regions`, which name the scenario's regions): what `twinbank exposure
    /// --scenario FILE --bank B --aggregate ID --regions FILE` evaluates. Returns the people read as well (how many were
    /// placed, who was not, whom the gate left out).
    /// - Throws: what ``RiskTwins/read(bank:aggregate:regions:locator:from:to:)`` throws (an unknown aggregate, the gate's
    ///   refusal, a malformed location); ``PopulationError/Code/invalidScenario`` naming a scenario region that is not
    ///   among `regions` (``withResidents(_:)``).
    public func withResidents(of aggregate: AggregateID, in bank: Bank, regions: GeoRegions) throws -> (scenario: ExposureScenario, people: BankRiskInput) {
        let input = try RiskTwins.read(bank: bank, aggregate: aggregate, regions: regions, locator: regions.locator())
        let scenario = try withResidents(Dictionary(uniqueKeysWithValues: zip(input.counts.regions, input.counts.population)))
        return (scenario, input)
    }
}
