"""Alerts API v2: one breaking change of each kind (see examples/breaking-changes-cookbook.md)."""

from .alerts import AlertsApi, AlertV2, NewAlertV2

__all__ = ["AlertV2", "AlertsApi", "NewAlertV2"]
