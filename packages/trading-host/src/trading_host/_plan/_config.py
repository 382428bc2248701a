"""Configuration: layered from the shipped default, a TOML file, the environment and arguments."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._problems import Problem, did_you_mean

CONFIG_ENV = "TRADING_CONFIG"
LOCAL_CONFIG = Path("trading.toml")
DEFAULT_SOURCE = "the shipped default configuration"
ENV_SOURCE = "the environment"
ARGS_SOURCE = "the arguments"
COMMAND_LINE = "the command line"
_MODULE_ENV_PREFIX = "TRADING_MODULES__"
FLEET_ENV_PREFIX = "TRADING_FLEET__"
NOW_ENV = "TRADING_NOW"


DEFAULT_MAX_BODY_SIZE = 262_144
"""256 KiB: a thousand times an order, far below what would strain a worker's memory."""


class ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_size: int = Field(default=DEFAULT_MAX_BODY_SIZE, ge=1)
    """The largest request body, and WebSocket message, in bytes: a larger one gets 413 (its
    ``Content-Length`` is refused before anything is read, a chunked body as soon as it passes the
    limit) or, on a WebSocket, a close with code 1009."""


class LifecycleEntry(BaseModel):
    """``[lifecycle.<module>.<version>]``: stable, or deprecated with its dates, successor and guide."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["stable", "deprecated"] = "stable"
    deprecation: date | None = None
    """Deprecated from 00:00 UTC on this date: every response carries the deprecation headers."""
    sunset: date | None = None
    """Gone from 00:00 UTC on this date: 410 Gone (or, with after_sunset = "refuse", no start)."""
    successor: str | None = None
    """The version of the same module to migrate to."""
    migration_guide: str | None = None
    """A path on this deployment (``/docs/<module>/<document>``) or an absolute URL."""
    short_notice: bool = False
    """Allow a sunset less than six months after the deprecation, on purpose."""


_PATH = r"^(/[A-Za-z0-9._~-]+)+$"


class MetricsConfig(BaseModel):
    """``[metrics]``: usage metrics in Prometheus format."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    path: str = Field(default="/metrics", pattern=_PATH)
    client: str = "api_key"
    """Who calls deprecated versions: ``api_key`` (hashed), ``header:<name>`` or ``cookie:<name>``."""
    max_clients: int = Field(default=1000, ge=1)
    """Distinct clients counted per process; later ones are counted as ``other``."""


class RolloutConfig(BaseModel):
    """``[rollout]``: an alias that sends each caller to one served global version, by weight."""

    model_config = ConfigDict(extra="forbid")

    alias: str = "latest"
    key: str
    """The caller attribute hashed to pick a version: ``api_key``, ``header:<name>`` or ``cookie:<name>``."""
    weights: dict[str, Annotated[int, Field(ge=0)]]
    fallback: str | None = None
    """The version of a caller without the key attribute; default: the largest weight."""


class HostConfig(BaseModel):
    """The host's configuration after every layer is merged."""

    model_config = ConfigDict(extra="forbid")

    serve: list[str] | None = None
    """Global versions served side by side; ``None`` serves every row of the matrix."""
    enabled_modules: list[str] | None = None
    """Modules to serve; ``None`` serves every installed module. ``core`` is always added."""
    module_version: str | None = None
    """Standalone mode: serve the one enabled module at this version under ``/{version}``."""
    api_prefix: str = Field(default="/api", pattern=r"^(/[A-Za-z0-9._~-]+)*$")
    matrix: dict[str, dict[str, str]] = Field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Each module's own settings table, validated by the module's ``Settings`` model."""
    server: ServerConfig = Field(default_factory=ServerConfig)
    lifecycle: dict[str, dict[str, LifecycleEntry]] = Field(default_factory=dict)
    """Module -> version -> lifecycle; a version not listed is stable."""
    after_sunset: Literal["gone", "refuse"] = "gone"
    """``gone``: a version past its sunset answers 410; ``refuse``: the host refuses to start."""
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    rollout: RolloutConfig | None = None
    now: datetime | None = None
    """Staging and tests: the clock starts at this moment (UTC unless an offset is given) and runs on."""
    fleet: dict[str, Any] = Field(default_factory=dict)
    """``[fleet]``: the processes of a fleet (``trading-host fleet``), validated by ``_fleet/``;
    a served process ignores it."""


@dataclass
class LoadedConfig:
    """A merged configuration, where each of its keys came from, and what was wrong with it."""

    config: HostConfig
    sources: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    """Dotted key -> how its user wrote it, where that is not the key itself: the environment
    variable (``GLOBAL_VERSION``) or the command-line option (``--port``)."""

    def source(self, key: str) -> str:
        return self.sources.get(key, DEFAULT_SOURCE)

    def where(self, key: str) -> str:
        """Where ``key`` (dotted: ``server.port``) was set, for a message: the most specific layer
        recorded for it, naming the variable or option it was written as (``ENABLED_MODULES in
        the environment``)."""
        parts = key.split(".")
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            if prefix in self.sources:
                name = self.names.get(key) or self.names.get(prefix)
                source = self.sources[prefix]
                if not name:
                    return source
                return f"{name} {'on' if source == COMMAND_LINE else 'in'} {source}"
        return DEFAULT_SOURCE

    def is_default(self, key: str) -> bool:
        return self.source(key) == DEFAULT_SOURCE

    def module_settings(self, module: str, model: type[BaseModel]) -> tuple[dict[str, Any], list[Problem]]:
        """The settings table of ``module`` for its ``model``, with the values of the environment
        that set a list, a table or a model read as JSON (``TRADING_MODULES__BROKER__API_KEYS='[...]'``),
        as pydantic-settings reads its own; and a problem for each such value that is not JSON.

        Written here because pydantic-settings does it only for a ``BaseSettings`` class that reads
        the environment itself, and a module's settings are a plain model the host fills from layers."""
        table = dict(self.config.modules.get(module, {}))
        problems = []
        for key, value in list(table.items()):
            field = model.model_fields.get(key)
            dotted = f"modules.{module}.{key}"
            if not isinstance(value, str) or field is None or self.source(dotted) != ENV_SOURCE:
                continue
            shape = _json_shape(field.annotation)
            if shape is None:
                continue
            try:
                table[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                if _takes_text(field.annotation):
                    continue  # a plain string is one of the values it takes
                del table[key]
                problems.append(
                    Problem(
                        "module-settings-invalid",
                        f"[modules.{module}] {key} in {self.where(dotted)}: a list, a table or a model is "
                        f"written as JSON in the environment, and this is not JSON ({exc.msg}: line {exc.lineno} "
                        f"column {exc.colno})",
                        f"set {self.names.get(dotted, dotted)} to JSON ('{shape}'), "
                        f"or set {key} in the [modules.{module}] table of the config file",
                    )
                )
        return table, problems

    def row_sources(self) -> dict[str, str]:
        """Where each row of the merged matrix came from, by global version, in matrix order."""
        return {row: self.source(f"matrix.{row}") for row in self.config.matrix}


def _arms(annotation: Any) -> list[Any]:
    """The types an annotation admits: ``Annotated`` unwrapped, a union split, ``None`` left out."""
    if get_origin(annotation) is Annotated:
        return _arms(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return [arm for part in get_args(annotation) for arm in _arms(part)]
    return [] if annotation is type(None) else [annotation]


def _json_shape(annotation: Any) -> str | None:
    """How a setting of this type is written in JSON: ``[...]`` for a list, a set or a tuple,
    ``{...}`` for a table or a model; ``None`` for a scalar, which the environment gives as is."""
    for arm in _arms(annotation):
        kind = get_origin(arm) or arm
        if not isinstance(kind, type) or issubclass(kind, (str, bytes)):
            continue
        if issubclass(kind, (BaseModel, Mapping)):
            return "{...}"
        if issubclass(kind, (Sequence, Set)):
            return "[...]"
    return None


def _takes_text(annotation: Any) -> bool:
    return any(arm is str or arm is Any for arm in _arms(annotation))


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


ENV_NAMES = {
    "serve": "GLOBAL_VERSION",
    "enabled_modules": "ENABLED_MODULES",
    "module_version": "MODULE_VERSION",
    "api_prefix": "TRADING_API_PREFIX",
    "now": NOW_ENV,
}
"""The key each of the host's own environment variables sets."""


def _from_environment(environ: Mapping[str, str], names: dict[str, str] | None = None) -> dict[str, Any]:
    """The seed's variable names (GLOBAL_VERSION, ENABLED_MODULES, MODULE_VERSION) plus ours;
    ``names`` gets the variable that set each key, for messages."""
    names = {} if names is None else names
    layer: dict[str, Any] = {}
    if environ.get("GLOBAL_VERSION"):
        layer["serve"] = _split(environ["GLOBAL_VERSION"])
    if environ.get("ENABLED_MODULES"):
        layer["enabled_modules"] = _split(environ["ENABLED_MODULES"])
    if environ.get("MODULE_VERSION"):
        layer["module_version"] = environ["MODULE_VERSION"].strip()
    if environ.get("TRADING_API_PREFIX") is not None:
        layer["api_prefix"] = environ["TRADING_API_PREFIX"]
    if environ.get(NOW_ENV):
        layer["now"] = environ[NOW_ENV].strip()
    names.update({key: ENV_NAMES[key] for key in layer})
    modules: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if name.upper().startswith(_MODULE_ENV_PREFIX):
            module, _, key = name[len(_MODULE_ENV_PREFIX) :].lower().partition("__")
            if module and key:
                modules.setdefault(module, {})[key] = value
                names[f"modules.{module}.{key}"] = name
    if modules:
        layer["modules"] = modules
    fleet: dict[str, Any] = {}
    for name, value in environ.items():
        if name.upper().startswith(FLEET_ENV_PREFIX):
            path = [part for part in name[len(FLEET_ENV_PREFIX) :].lower().split("__") if part]
            table = fleet
            for part in path[:-1]:
                table = table.setdefault(part, {})
            if path and isinstance(table, dict):
                table[path[-1]] = value
                names["fleet." + ".".join(path)] = name
    if fleet:
        layer["fleet"] = fleet
    return layer


def _merge_deep(base: dict[str, Any], layer: Mapping[str, Any]) -> None:
    """``[fleet]`` merges key by key at every depth (``TRADING_FLEET__SERVICES__BROKER_V1__REPLICAS``)."""
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge_deep(base[key], value)
        else:
            base[key] = dict(value) if isinstance(value, Mapping) else value


def _read_toml(path: Path, label: str, problems: list[Problem]) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        looked = "" if path.is_absolute() else f" (no file at {path.absolute()})"
        problems.append(
            Problem(
                "config-file-missing", f"{label} {path} does not exist{looked}", "create it, or name an existing file"
            )
        )
    except tomllib.TOMLDecodeError as exc:
        problems.append(
            Problem("config-file-invalid", f"{path} is not valid TOML: {exc}", f"correct the syntax of {path}")
        )
    except OSError as exc:
        problems.append(
            Problem("config-file-unreadable", f"cannot read {path}: {exc}", "check the path and its permissions")
        )
    return {}


def _merge_lifecycle(base: dict[str, Any], sources: dict[str, str], layer: Mapping[str, Any], label: str) -> None:
    """``[lifecycle.<module>.<version>]`` tables replace the same table of an earlier layer, no other."""
    for module, versions in layer.items():
        current = base.setdefault(module, {})
        if not isinstance(versions, Mapping) or not isinstance(current, dict):
            base[module] = versions
            sources[f"lifecycle.{module}"] = label
            continue
        for version, table in versions.items():
            current[version] = table
            sources[f"lifecycle.{module}.{version}"] = label


def _record_settings(sources: dict[str, str], module: str, table: object, label: str) -> None:
    """Where each key of a module's settings table came from, as ``modules.<module>.<key>``: a
    table is merged key by key, so its own source names only the last layer that touched it."""
    if isinstance(table, Mapping):
        sources.update({f"modules.{module}.{key}": label for key in table})


_KEYED_TABLES = frozenset({"server", "metrics"})
"""Tables of the host's own settings, merged key by key."""


def _merge(base: dict[str, Any], sources: dict[str, str], layer: Mapping[str, Any], label: str) -> None:
    """A key of a later layer replaces the earlier one, except ``matrix``, merged per row (a row
    replaces the row of the same name as a whole), ``modules``, merged per module and key,
    ``server`` and ``metrics``, merged key by key, and ``lifecycle``, merged per module version."""
    for key, value in layer.items():
        if key == "matrix" and isinstance(value, Mapping):
            # A user's [matrix.v2] must not drop the shipped v1 row: `serve` selects the rows served.
            rows = base.get(key)
            if not isinstance(rows, dict):
                rows = base[key] = {}
            for row, table in value.items():
                rows[row] = table
                sources[f"matrix.{row}"] = label
        elif key == "fleet" and isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge_deep(base[key], value)
        elif key in _KEYED_TABLES and isinstance(value, Mapping) and isinstance(base.get(key), dict):
            # A [server] table that sets only the port keeps the other keys, and their sources.
            base[key] = {**base[key], **value}
            sources.update({f"{key}.{name}": label for name in value})
        elif key == "lifecycle" and isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge_lifecycle(base[key], sources, value, label)
        elif key == "modules" and isinstance(value, Mapping) and isinstance(base.get(key), dict):
            for module, table in value.items():
                current = base[key].get(module)
                if isinstance(current, dict) and isinstance(table, Mapping):
                    base[key][module] = {**current, **table}
                else:
                    base[key][module] = table
                sources[f"modules.{module}"] = label
                _record_settings(sources, module, table, label)
        else:
            base[key] = value
            if key in _KEYED_TABLES and isinstance(value, Mapping):
                sources.update({f"{key}.{name}": label for name in value})
            if key == "modules" and isinstance(value, Mapping):
                sources.update({f"modules.{m}": label for m in value})
                for module, table in value.items():
                    _record_settings(sources, module, table, label)
            if key == "lifecycle" and isinstance(value, Mapping):
                for module, versions in value.items():
                    sources[f"lifecycle.{module}"] = label
                    if isinstance(versions, Mapping):
                        sources.update({f"lifecycle.{module}.{v}": label for v in versions})
        sources[key] = label


def _table_keys(loc: tuple[Any, ...]) -> list[str] | None:
    """The keys the table holding ``loc`` (an unknown key's location) may have; ``None`` for a
    module's settings, which the module checks."""
    tables: dict[str, type[BaseModel]] = {"server": ServerConfig, "metrics": MetricsConfig, "rollout": RolloutConfig}
    model: type[BaseModel] | None = HostConfig
    path = [str(part) for part in loc[:-1]]
    if path and path[0] in tables:
        model = tables[path[0]]
    elif len(path) == 3 and path[0] == "lifecycle":
        model = LifecycleEntry
    elif path:
        model = None
    return sorted(model.model_fields) if model is not None and len(path) <= 3 else None


def _problem_from_error(error: Any, loaded: LoadedConfig) -> Problem:
    loc = ".".join(str(part) for part in error["loc"])
    where = loaded.where(loc)
    if error["type"] == "extra_forbidden":
        keys = _table_keys(tuple(error["loc"]))
        unknown = str(error["loc"][-1]) if error["loc"] else loc
        hint = did_you_mean(unknown, keys or ())
        known = f"the keys it may have: {', '.join(keys)}" if keys else "see the documented keys"
        return Problem(
            "config-unknown-key",
            f"unknown key '{loc}' in {where}{hint}",
            f"remove it or correct its spelling ({known})",
        )
    name = loaded.names.get(loc) or loaded.names.get(loc.partition(".")[0])
    return Problem(
        "config-invalid-value",
        f"{where if name else repr(loc) + ' in ' + where}: {error['msg']} (got {error.get('input')!r})",
        f"correct {name or repr(loc)}",
    )


def load_config(
    path: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    path_label: str = "the config file",
    overrides_label: str = ARGS_SOURCE,
    override_names: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Merge, strongest last: the shipped default, the file (``path``, ``$TRADING_CONFIG`` or
    ``./trading.toml``), the environment, then ``overrides``. Problems are collected, not raised.

    Messages call ``path`` ``path_label`` (``--config``) and the overrides ``overrides_label``,
    each key written as ``override_names`` says (``{"server.port": "--port"}``)."""
    environ = os.environ if environ is None else environ
    problems: list[Problem] = []
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    names: dict[str, str] = {}

    default_text = resources.files("trading_host").joinpath("default.toml").read_text(encoding="utf-8")
    _merge(merged, sources, tomllib.loads(default_text), DEFAULT_SOURCE)

    if path is not None:
        file_path: Path | None = Path(path)
        label = path_label
    elif environ.get(CONFIG_ENV):
        file_path = Path(environ[CONFIG_ENV])
        label = f"{CONFIG_ENV}"
    else:
        file_path = LOCAL_CONFIG if LOCAL_CONFIG.is_file() else None
        label = "the config file"
    if file_path is not None:
        _merge(merged, sources, _read_toml(file_path, label, problems), str(file_path))

    _merge(merged, sources, _from_environment(environ, names), ENV_SOURCE)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    _merge(merged, sources, given, overrides_label)
    for key, name in (override_names or {}).items():
        table, _, inner = key.partition(".")
        value = given.get(table)
        if value is not None and (not inner or (isinstance(value, Mapping) and value.get(inner) is not None)):
            names[key] = name

    loaded = LoadedConfig(config=HostConfig(), sources=sources, problems=problems, names=names)
    try:
        loaded.config = HostConfig.model_validate(merged)
    except ValidationError as exc:
        problems.extend(_problem_from_error(e, loaded) for e in exc.errors())
        # Go on without the keys in error, so that the problems they hide are reported too.
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        try:
            loaded.config = HostConfig.model_validate({k: v for k, v in merged.items() if k not in bad})
        except ValidationError:
            loaded.config = HostConfig()
    return loaded
