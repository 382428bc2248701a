"""Broker API versions: ``v1`` (the original contract) and ``v2`` (bearer tokens, strict rules)."""
