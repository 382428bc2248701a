"""Alerts API v1: the original API, kept as an adapter over the service v2 changed."""

from .alerts import AlertsApi, AlertV1, NewAlertV1

__all__ = ["AlertV1", "AlertsApi", "NewAlertV1"]
