"""Kizuna's pages: server-rendered HTML that runs registered GraphQL documents through the API's own path."""
