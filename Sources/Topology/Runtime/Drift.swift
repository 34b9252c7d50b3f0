/// How what runs differs from what the stored topology should have (docs/deviations.md#observation-by-label: DECNET's observation was blind).
public struct Drift: Sendable, Equatable {
    public var missingBridges: [String]
    public var missingContainers: [String]
    public var stoppedContainers: [String]
    public var unexpectedContainers: [String]

    public init(
        missingBridges: [String] = [],
        missingContainers: [String] = [],
        stoppedContainers: [String] = [],
        unexpectedContainers: [String] = []
    ) {
        self.missingBridges = missingBridges
        self.missingContainers = missingContainers
        self.stoppedContainers = stoppedContainers
        self.unexpectedContainers = unexpectedContainers
    }

    /// Compares the expected plan with an observation made by label. With no plan, everything observed is unexpected.
    public init(expected plan: ComposePlan?, observed: Observation) {
        let expectedBridges = Set(plan?.bridges.map(\.name) ?? [])
        let expectedContainers = Set(plan?.containers.map(\.containerName) ?? [])
        let seenBridges = Set(observed.bridges)
        let seen = Dictionary(observed.containers.map { ($0.name, $0.running) }, uniquingKeysWith: { a, b in a || b })
        missingBridges = expectedBridges.subtracting(seenBridges).sorted()
        missingContainers = expectedContainers.subtracting(seen.keys).sorted()
        stoppedContainers = seen.filter { expectedContainers.contains($0.key) && !$0.value }.map(\.key).sorted()
        unexpectedContainers = Set(seen.keys).subtracting(expectedContainers).sorted()
    }

    public var isEmpty: Bool {
        missingBridges.isEmpty && missingContainers.isEmpty && stoppedContainers.isEmpty && unexpectedContainers.isEmpty
    }
}
