import Testing

@Test func composertestsPlaceholder() {}
