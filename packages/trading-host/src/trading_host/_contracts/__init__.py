"""Contract tooling, never on the request path: spec reader, diff, compat, validation, committed specs, clients."""
