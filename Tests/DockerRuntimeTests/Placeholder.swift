import Testing

@Test func dockerRuntimePlaceholder() {}
