"""Contains all the data models used in inputs/outputs"""

from .health import Health
from .health_modules import HealthModules
from .health_modules_additional_property import HealthModulesAdditionalProperty
from .health_status import HealthStatus
from .module_version import ModuleVersion

__all__ = (
    "Health",
    "HealthModules",
    "HealthModulesAdditionalProperty",
    "HealthStatus",
    "ModuleVersion",
)
