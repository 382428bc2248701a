"""Core API versions."""
