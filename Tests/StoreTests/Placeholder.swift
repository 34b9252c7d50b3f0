import Testing

@Test func storetestsPlaceholder() {}
