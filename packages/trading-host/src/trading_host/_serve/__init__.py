"""Serving: the app factory, the per-process runtime, the dispatcher and the per-plan wiring of the wrappers."""
