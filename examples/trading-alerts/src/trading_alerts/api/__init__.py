"""One package per API major version: ``v1``, ``v2``."""
