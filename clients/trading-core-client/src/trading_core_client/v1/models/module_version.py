from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ModuleVersion")


@_attrs_define
class ModuleVersion:
    """
    Attributes:
        distribution (str):
        distribution_version (str):
        global_versions (list[str]):
        module (str):
        status (str): ``stable``, ``deprecated`` (still served, with deprecation headers) or ``sunset`` (410 Gone).
        version (str):
        deprecation (datetime.date | None | Unset): The date from which the version is deprecated, if it is.
        migration_guide (None | str | Unset): Where the migration to ``successor`` is explained: a path on this
            deployment or a URL.
        successor (None | str | Unset): The version to migrate to.
        sunset (datetime.date | None | Unset): The date from which the version is no longer served.
    """

    distribution: str
    distribution_version: str
    global_versions: list[str]
    module: str
    status: str
    version: str
    deprecation: datetime.date | None | Unset = UNSET
    migration_guide: None | str | Unset = UNSET
    successor: None | str | Unset = UNSET
    sunset: datetime.date | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        distribution = self.distribution

        distribution_version = self.distribution_version

        global_versions = self.global_versions

        module = self.module

        status = self.status

        version = self.version

        deprecation: None | str | Unset
        if isinstance(self.deprecation, Unset):
            deprecation = UNSET
        elif isinstance(self.deprecation, datetime.date):
            deprecation = self.deprecation.isoformat()
        else:
            deprecation = self.deprecation

        migration_guide: None | str | Unset
        if isinstance(self.migration_guide, Unset):
            migration_guide = UNSET
        else:
            migration_guide = self.migration_guide

        successor: None | str | Unset
        if isinstance(self.successor, Unset):
            successor = UNSET
        else:
            successor = self.successor

        sunset: None | str | Unset
        if isinstance(self.sunset, Unset):
            sunset = UNSET
        elif isinstance(self.sunset, datetime.date):
            sunset = self.sunset.isoformat()
        else:
            sunset = self.sunset

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "distribution": distribution,
                "distribution_version": distribution_version,
                "global_versions": global_versions,
                "module": module,
                "status": status,
                "version": version,
            }
        )
        if deprecation is not UNSET:
            field_dict["deprecation"] = deprecation
        if migration_guide is not UNSET:
            field_dict["migration_guide"] = migration_guide
        if successor is not UNSET:
            field_dict["successor"] = successor
        if sunset is not UNSET:
            field_dict["sunset"] = sunset

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        distribution = remaining__.pop("distribution")

        distribution_version = remaining__.pop("distribution_version")

        global_versions = cast(list[str], remaining__.pop("global_versions"))

        module = remaining__.pop("module")

        status = remaining__.pop("status")

        version = remaining__.pop("version")

        def _parse_deprecation(data: object) -> datetime.date | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                deprecation_type_0 = datetime.date.fromisoformat(data)

                return deprecation_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.date | None | Unset, data)

        deprecation = _parse_deprecation(remaining__.pop("deprecation", UNSET))

        def _parse_migration_guide(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        migration_guide = _parse_migration_guide(
            remaining__.pop("migration_guide", UNSET)
        )

        def _parse_successor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        successor = _parse_successor(remaining__.pop("successor", UNSET))

        def _parse_sunset(data: object) -> datetime.date | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                sunset_type_0 = datetime.date.fromisoformat(data)

                return sunset_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.date | None | Unset, data)

        sunset = _parse_sunset(remaining__.pop("sunset", UNSET))

        module_version = cls(
            distribution=distribution,
            distribution_version=distribution_version,
            global_versions=global_versions,
            module=module,
            status=status,
            version=version,
            deprecation=deprecation,
            migration_guide=migration_guide,
            successor=successor,
            sunset=sunset,
        )

        module_version.additional_properties = remaining__
        return module_version

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
