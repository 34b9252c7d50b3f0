import Testing

@Test func zeromqPlaceholder() {}
