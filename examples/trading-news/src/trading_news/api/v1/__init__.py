"""News API v1: headlines by symbol."""

from .headlines import HeadlineOut, NewsApi

__all__ = ["HeadlineOut", "NewsApi"]
