"""The ``core`` module: health and the list of served module versions. Always enabled."""

from ._module import CoreModule

__all__ = ["CoreModule"]
