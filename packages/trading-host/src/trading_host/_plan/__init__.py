"""The plan: configuration, discovery, the resolved matrix, lifecycle checks and the clock. Imports no web code."""
