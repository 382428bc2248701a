"""An example Trading API plugin with two API versions: the ``alerts`` module (price alerts).

It is the code of the repository's plugin guide (``examples/writing-a-plugin.md``) and of its
cookbook of breaking changes (``examples/breaking-changes-cookbook.md``): v2 makes one breaking
change of each kind, and v1 keeps working as an adapter over the same service.
"""

from ._models import Alert, AlertEvent, Direction, TooManyAlerts, UnknownAlert
from ._module import AlertsModule, AlertsSettings
from ._service import AlertService
from ._version import __version__

__all__ = [
    "Alert",
    "AlertEvent",
    "AlertService",
    "AlertsModule",
    "AlertsSettings",
    "Direction",
    "TooManyAlerts",
    "UnknownAlert",
    "__version__",
]
