import Testing

@Test func validatortestsPlaceholder() {}
