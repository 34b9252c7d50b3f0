import TestSupport

/// This suite's spelling of TestSupport's `eventually(within:every:_:)`: polls every 10 ms, 15 s unless told.
func eventually(_ seconds: Double = 15, _ condition: () async -> Bool) async -> Bool {
    await TestSupport.eventually(within: seconds, every: .milliseconds(10), condition)
}
