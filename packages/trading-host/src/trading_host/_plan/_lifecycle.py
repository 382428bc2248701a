"""Module version lifecycles from the configuration, checked before anything is served.

A version is stable unless a ``[lifecycle.<module>.<version>]`` table deprecates it from a date,
with a sunset date at least six months later (the seed's policy; ``short_notice = true`` allows
less on purpose), a successor version of the same module and a migration guide.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date
from importlib.resources.abc import Traversable

from trading_core import Lifecycle, parse_version

from .._documents._guides import document_names, find_document, parse_document_url
from .._problems import Problem, did_you_mean
from ._config import LifecycleEntry, LoadedConfig

MINIMUM_NOTICE_MONTHS = 6
# The characters of a URI (RFC 3986) minus '<' and '>', so a guide fits in a Link header as is.
_URL = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer days (Aug 31 + 6 = Feb 28)."""
    # dateutil.relativedelta does this, but the host needs only this one line of calendar arithmetic.
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _title(module: str, version: str) -> str:
    return f"[lifecycle.{module}.{version}]"


def resolve_lifecycles(
    loaded: LoadedConfig, available: Mapping[str, list[str]], problems: list[Problem]
) -> dict[tuple[str, str], Lifecycle]:
    """The lifecycle of every installed module version the configuration deprecates; every
    mistake found is added to ``problems``. Tables of the shipped default that name a module or a
    version that is not installed are skipped, like its matrix rows; a user's are checked."""
    lifecycles: dict[tuple[str, str], Lifecycle] = {}
    for module, versions in loaded.config.lifecycle.items():
        for version, entry in versions.items():
            where = loaded.where(f"lifecycle.{module}.{version}")
            shipped = loaded.is_default(f"lifecycle.{module}.{version}")
            if not _installed(module, version, available, where, shipped, problems):
                continue
            lifecycle = _check_entry(module, version, entry, available, where, shipped, problems)
            if lifecycle is not None:
                lifecycles[(module, version)] = lifecycle
    return lifecycles


def _installed(
    module: str, version: str, available: Mapping[str, list[str]], where: str, shipped: bool, problems: list[Problem]
) -> bool:
    title = _title(module, version)
    try:
        parse_version(version)
    except ValueError as exc:
        problems.append(Problem("lifecycle-invalid", f"{title} in {where}: {exc}", "name the version 'v1', 'v2', ..."))
        return False
    if version in available.get(module, []):
        return True
    if not shipped:
        served = ", ".join(available.get(module, [])) or "no version: it is not installed"
        # A version that is not installed, or a module: whichever the typo is in.
        hint = did_you_mean(version, available[module]) if module in available else did_you_mean(module, available)
        problems.append(
            Problem(
                "lifecycle-unknown-version",
                f"{title} in {where} names {module} {version}, but the installed releases serve {served}{hint}",
                f"remove the {title} table, or install a release that serves {module} {version}",
            )
        )
    return False


def _check_entry(
    module: str,
    version: str,
    entry: LifecycleEntry,
    available: Mapping[str, list[str]],
    where: str,
    shipped: bool,
    problems: list[Problem],
) -> Lifecycle | None:
    title = _title(module, version)
    dated = {
        "deprecation": entry.deprecation,
        "sunset": entry.sunset,
        "successor": entry.successor,
        "migration_guide": entry.migration_guide,
    }
    if entry.status == "stable":
        extra = [key for key, value in dated.items() if value is not None]
        if extra:
            problems.append(
                Problem(
                    "lifecycle-invalid",
                    f"{title} in {where} is stable but sets {', '.join(extra)}",
                    'add status = "deprecated" to deprecate it, or remove those keys',
                )
            )
        return None
    deprecation, sunset, successor, guide = entry.deprecation, entry.sunset, entry.successor, entry.migration_guide
    if deprecation is None or sunset is None or successor is None or guide is None:
        missing = [key for key, value in dated.items() if value is None]
        problems.append(
            Problem(
                "lifecycle-incomplete",
                f"{title} in {where} deprecates {module} {version} but does not set {', '.join(missing)}",
                "a deprecated version needs deprecation and sunset dates, a successor and a migration_guide",
            )
        )
        return None
    found = len(problems)
    earliest = add_months(deprecation, MINIMUM_NOTICE_MONTHS)
    if sunset < deprecation:
        problems.append(
            Problem(
                "lifecycle-sunset-before-deprecation",
                f"{title} in {where}: sunset {sunset} is before deprecation {deprecation}",
                "set the sunset date after the deprecation date",
            )
        )
    elif sunset < earliest and not entry.short_notice:
        problems.append(
            Problem(
                "lifecycle-short-notice",
                f"{title} in {where}: sunset {sunset} is less than {MINIMUM_NOTICE_MONTHS} months after "
                f"deprecation {deprecation}",
                f"set sunset to {earliest} or later, or add short_notice = true to allow less notice on purpose",
            )
        )
    _check_successor(module, version, successor, available, title, where, shipped, problems)
    if not _URL.match(guide):
        problems.append(
            Problem(
                "lifecycle-guide-invalid",
                f"{title} in {where}: migration_guide {guide!r} is not a URL",
                "write a path such as '/docs/<module>/<document>' or an absolute URL, percent-encoding "
                "spaces and other characters outside URLs",
            )
        )
    if len(problems) > found:
        return None
    return Lifecycle(deprecation, sunset, successor, guide)


def _check_successor(
    module: str,
    version: str,
    successor: str,
    available: Mapping[str, list[str]],
    title: str,
    where: str,
    shipped: bool,
    problems: list[Problem],
) -> None:
    try:
        newer = parse_version(successor) > parse_version(version)
    except ValueError as exc:
        problems.append(Problem("lifecycle-invalid", f"{title} in {where}: successor: {exc}", "name a later version"))
        return
    if not newer:
        problems.append(
            Problem(
                "lifecycle-invalid",
                f"{title} in {where}: successor {successor} is not a later version than {version}",
                f"name a later version of {module} as successor",
            )
        )
    elif successor not in available.get(module, []) and not shipped:
        problems.append(
            Problem(
                "lifecycle-successor-missing",
                f"{title} in {where}: successor {module} {successor} is not installed "
                f"(installed: {', '.join(available.get(module, []))})",
                f"install a release that serves {module} {successor}, or name an installed successor",
            )
        )


def check_guides(
    lifecycles: Mapping[tuple[str, str], Lifecycle],
    folders: Mapping[str, Traversable],
    loaded: LoadedConfig,
    problems: list[Problem],
) -> None:
    """A guide named by a path under ``/docs/`` must be a document that the host serves."""
    for (module, version), lifecycle in lifecycles.items():
        local = parse_document_url(lifecycle.migration_guide)
        if local is None:
            continue
        owner, name = local
        folder = folders.get(owner)
        if folder is not None and find_document(folder, name) is not None:
            continue
        if loaded.is_default(f"lifecycle.{module}.{version}"):
            continue  # an older release of the module without the shipped guide: the link is all that breaks
        where = loaded.where(f"lifecycle.{module}.{version}")
        if folder is None:
            has = f"module {owner} is not served or ships no documents"
        else:
            has = f"{owner} ships: {', '.join(document_names(folder)) or 'nothing'}"
        problems.append(
            Problem(
                "lifecycle-guide-not-found",
                f"{_title(module, version)} in {where}: migration_guide {lifecycle.migration_guide} names no "
                f"document this host serves ({has})",
                f"add {name}.md to the docs folder of {owner}'s package, or point migration_guide at a served "
                "document or an absolute URL",
            )
        )


def lifecycle_json(lifecycle: Lifecycle | None, now: float) -> dict[str, str | None]:
    """A version's lifecycle as the CLI's ``--json`` shows it (the fields of ``/core/versions``)."""
    return {
        "status": lifecycle.status_at(now) if lifecycle is not None else "stable",
        "deprecation": lifecycle.deprecation.isoformat() if lifecycle is not None else None,
        "sunset": lifecycle.sunset.isoformat() if lifecycle is not None else None,
        "successor": lifecycle.successor if lifecycle is not None else None,
        "migration_guide": lifecycle.migration_guide if lifecycle is not None else None,
    }


def describe(lifecycle: Lifecycle, now: float) -> str:
    """One line for people: ``deprecated since 2026-11-01, sunset 2027-06-01, successor v2, guide /docs/...``."""
    status = lifecycle.status_at(now)
    if status == "stable":
        head = f"stable, deprecated from {lifecycle.deprecation}"
    elif status == "deprecated":
        head = f"deprecated since {lifecycle.deprecation}"
    else:
        head = f"sunset since {lifecycle.sunset} (410 Gone)"
    sunset = f", sunset {lifecycle.sunset}" if status != "sunset" else ""
    return f"{head}{sunset}, successor {lifecycle.successor}, guide {lifecycle.migration_guide}"
