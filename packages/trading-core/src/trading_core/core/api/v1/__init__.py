"""Core API v1: health and versions."""

from .health import CoreApi

__all__ = ["CoreApi"]
