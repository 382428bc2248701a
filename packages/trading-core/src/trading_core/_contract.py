"""The contract between the host and a module: what a plugin implements and what it is given."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, ClassVar, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

ENTRY_POINT_GROUP = "trading_api.modules"
"""The entry-point group in which every (module, API major version) is registered."""

_MODULE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION = re.compile(r"^v([1-9][0-9]*)$")


def parse_version(version: str) -> int:
    """Return the major number of an API version such as ``"v2"``; ``ValueError`` otherwise."""
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(f"{version!r} is not an API version; write 'v' and a major number, like 'v1'")
    return int(match.group(1))


class NoSettings(BaseModel):
    """Settings of a module that takes none: any key given is a mistake, so it is refused."""

    model_config = ConfigDict(extra="forbid")


Status = Literal["stable", "deprecated", "sunset"]
"""A module version's lifecycle status at a given moment."""


def midnight_utc(day: date) -> float:
    """Unix seconds of 00:00 UTC on ``day``: the moment a lifecycle date takes effect."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Lifecycle:
    """A deprecated module version's timeline: deprecated from ``deprecation``, gone from ``sunset``.

    Both dates take effect at 00:00 UTC. ``successor`` is the version to migrate to and
    ``migration_guide`` a URL (a path on this deployment, or an absolute URL).
    """

    deprecation: date
    sunset: date
    successor: str
    migration_guide: str

    def status_at(self, now: float) -> Status:
        """The status at ``now`` (Unix seconds): stable before the deprecation date, sunset from the sunset date."""
        if now < midnight_utc(self.deprecation):
            return "stable"
        if now < midnight_utc(self.sunset):
            return "deprecated"
        return "sunset"


@dataclass(frozen=True)
class MountedVersion:
    """One module version as the host serves it."""

    module: str
    version: str
    distribution: str
    distribution_version: str
    global_versions: tuple[str, ...]
    status: str = "stable"
    """The configured status; :meth:`status_at` gives the status at a moment, dates included."""
    lifecycle: Lifecycle | None = None
    """The version's deprecation timeline, when the configuration deprecates it."""

    def status_at(self, now: float) -> str:
        """``stable``, ``deprecated`` or ``sunset`` at ``now`` (Unix seconds)."""
        return self.lifecycle.status_at(now) if self.lifecycle is not None else self.status


@dataclass
class Platform:
    """What the host tells modules about the composed platform. Filled in before start-up."""

    mounted: list[MountedVersion] = field(default_factory=list)
    modules: dict[str, Module] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    """The platform's time in Unix seconds; the host may set it ahead for staging and tests."""


@dataclass(frozen=True)
class ModuleContext:
    """What a module is constructed with: its own settings table and the platform it runs in."""

    settings: Mapping[str, Any] = field(default_factory=dict)
    platform: Platform = field(default_factory=Platform)


class Module:
    """A module: one instance per process, shared by every API version mounted in it.

    Subclasses set ``name``, optionally ``Settings`` (a pydantic model validated from the
    module's ``[modules.<name>]`` config table before anything is served), build their shared
    service in ``__init__`` and open or close resources in ``lifespan``.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Settings: ClassVar[type[BaseModel]] = NoSettings

    def __init__(self, context: ModuleContext | None = None) -> None:
        self.context = context if context is not None else ModuleContext()
        self.settings: BaseModel = self.Settings.model_validate(dict(self.context.settings))

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Open resources at start-up and close them at shutdown; the host runs it once per process."""
        yield

    async def health(self) -> dict[str, Any]:
        """Report this module's health; ``{"status": "ok"}`` when it can serve."""
        return {"status": "ok"}

    @classmethod
    def docs_folder(cls) -> Traversable | None:
        """The module's documents (CHANGELOGs, migration guides) that the host serves at
        ``/docs/{module}/{name}``: by default the ``docs`` folder of the top-level package that
        defines the module class, when there is one. Override to point elsewhere, or return None."""
        package = cls.__module__.partition(".")[0]
        try:
            folder = resources.files(package).joinpath("docs")
        except (ModuleNotFoundError, TypeError, ValueError):  # defined in __main__, or no package to look in
            return None
        return folder if folder.is_dir() else None


class ModuleApi(APIRouter):
    """One API major version of a module: a FastAPI router built over the module's shared instance.

    Subclasses set ``module`` (the :class:`Module` subclass) and ``version`` (``"v1"``...), and
    declare their routes in ``__init__`` with paths relative to the module (``/orders``): the host
    adds ``/api/{global}/{module}`` or ``/{version}``.
    """

    module: ClassVar[type[Module]]
    version: ClassVar[str]

    def __init__(self, module: Module, **kwargs: Any) -> None:
        # The host runs the Module's lifespan once per process; a router's own would never run.
        refused = sorted({"lifespan", "on_startup", "on_shutdown"} & kwargs.keys())
        if refused:
            raise TypeError(f"ModuleApi does not take {', '.join(refused)}: put start-up work in Module.lifespan")
        kwargs.setdefault("tags", [module.name])
        super().__init__(**kwargs)
        self.module_instance = module


def check_api_class(obj: object, module: str, version: str) -> list[str]:
    """Every way ``obj`` fails to be the API class of ``module`` ``version``; empty when it conforms."""
    if not (isinstance(obj, type) and issubclass(obj, ModuleApi)):
        return [f"{obj!r} is not a subclass of trading_core.ModuleApi"]
    problems = []
    module_cls = getattr(obj, "module", None)
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        problems.append(f"{obj.__qualname__}.module must be a trading_core.Module subclass")
    else:
        name = getattr(module_cls, "name", None)
        if not isinstance(name, str) or not _MODULE_NAME.match(name):
            problems.append(f"{module_cls.__qualname__}.name must be lower-case letters, digits and '_', got {name!r}")
        elif name != module:
            problems.append(f"registered as module {module!r} but {module_cls.__qualname__}.name is {name!r}")
    declared = getattr(obj, "version", None)
    if declared != version:
        problems.append(f"registered as {version!r} but {obj.__qualname__}.version is {declared!r}")
    return problems
