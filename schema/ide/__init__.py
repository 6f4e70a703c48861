"""The in-browser IDE at /graphql (development only): GraphiQL from npm, or Kizuna's own page."""
