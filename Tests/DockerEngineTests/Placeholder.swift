import Testing

@Test func dockerenginetestsPlaceholder() {}
