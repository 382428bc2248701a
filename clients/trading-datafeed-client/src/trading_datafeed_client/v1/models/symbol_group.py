from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SymbolGroup")


@_attrs_define
class SymbolGroup:
    """The symbols of a group as UDF's ``/symbol_info`` table: one list per field, one entry per
    symbol, in the same order; the field names are UDF's (hyphenated).

        Attributes:
            description (list[str]):
            exchange_listed (list[str]):
            exchange_traded (list[str]):
            fractional (list[bool]):
            has_daily (list[bool]):
            has_intraday (list[bool]):
            has_weekly_and_monthly (list[bool]):
            intraday_multipliers (list[list[str]]):
            minmov2 (list[int]):
            minmovement (list[int]):
            pricescale (list[int]):
            session_regular (list[str]):
            supported_resolutions (list[list[str]]):
            symbol (list[str]):
            ticker (list[str]):
            timezone (list[str]):
            type_ (list[str]):
            volume_precision (list[int]):
            currency_code (list[None | str] | None | Unset):
    """

    description: list[str]
    exchange_listed: list[str]
    exchange_traded: list[str]
    fractional: list[bool]
    has_daily: list[bool]
    has_intraday: list[bool]
    has_weekly_and_monthly: list[bool]
    intraday_multipliers: list[list[str]]
    minmov2: list[int]
    minmovement: list[int]
    pricescale: list[int]
    session_regular: list[str]
    supported_resolutions: list[list[str]]
    symbol: list[str]
    ticker: list[str]
    timezone: list[str]
    type_: list[str]
    volume_precision: list[int]
    currency_code: list[None | str] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        description = self.description

        exchange_listed = self.exchange_listed

        exchange_traded = self.exchange_traded

        fractional = self.fractional

        has_daily = self.has_daily

        has_intraday = self.has_intraday

        has_weekly_and_monthly = self.has_weekly_and_monthly

        intraday_multipliers = []
        for intraday_multipliers_item_data in self.intraday_multipliers:
            intraday_multipliers_item = intraday_multipliers_item_data

            intraday_multipliers.append(intraday_multipliers_item)

        minmov2 = self.minmov2

        minmovement = self.minmovement

        pricescale = self.pricescale

        session_regular = self.session_regular

        supported_resolutions = []
        for supported_resolutions_item_data in self.supported_resolutions:
            supported_resolutions_item = supported_resolutions_item_data

            supported_resolutions.append(supported_resolutions_item)

        symbol = self.symbol

        ticker = self.ticker

        timezone = self.timezone

        type_ = self.type_

        volume_precision = self.volume_precision

        currency_code: list[None | str] | None | Unset
        if isinstance(self.currency_code, Unset):
            currency_code = UNSET
        elif isinstance(self.currency_code, list):
            currency_code = []
            for currency_code_type_0_item_data in self.currency_code:
                currency_code_type_0_item: None | str
                currency_code_type_0_item = currency_code_type_0_item_data
                currency_code.append(currency_code_type_0_item)

        else:
            currency_code = self.currency_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "description": description,
                "exchange-listed": exchange_listed,
                "exchange-traded": exchange_traded,
                "fractional": fractional,
                "has-daily": has_daily,
                "has-intraday": has_intraday,
                "has-weekly-and-monthly": has_weekly_and_monthly,
                "intraday-multipliers": intraday_multipliers,
                "minmov2": minmov2,
                "minmovement": minmovement,
                "pricescale": pricescale,
                "session-regular": session_regular,
                "supported-resolutions": supported_resolutions,
                "symbol": symbol,
                "ticker": ticker,
                "timezone": timezone,
                "type": type_,
                "volume-precision": volume_precision,
            }
        )
        if currency_code is not UNSET:
            field_dict["currency-code"] = currency_code

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        description = cast(list[str], remaining__.pop("description"))

        exchange_listed = cast(list[str], remaining__.pop("exchange-listed"))

        exchange_traded = cast(list[str], remaining__.pop("exchange-traded"))

        fractional = cast(list[bool], remaining__.pop("fractional"))

        has_daily = cast(list[bool], remaining__.pop("has-daily"))

        has_intraday = cast(list[bool], remaining__.pop("has-intraday"))

        has_weekly_and_monthly = cast(
            list[bool], remaining__.pop("has-weekly-and-monthly")
        )

        intraday_multipliers = []
        _intraday_multipliers = remaining__.pop("intraday-multipliers")
        for intraday_multipliers_item_data in _intraday_multipliers:
            intraday_multipliers_item = cast(list[str], intraday_multipliers_item_data)

            intraday_multipliers.append(intraday_multipliers_item)

        minmov2 = cast(list[int], remaining__.pop("minmov2"))

        minmovement = cast(list[int], remaining__.pop("minmovement"))

        pricescale = cast(list[int], remaining__.pop("pricescale"))

        session_regular = cast(list[str], remaining__.pop("session-regular"))

        supported_resolutions = []
        _supported_resolutions = remaining__.pop("supported-resolutions")
        for supported_resolutions_item_data in _supported_resolutions:
            supported_resolutions_item = cast(
                list[str], supported_resolutions_item_data
            )

            supported_resolutions.append(supported_resolutions_item)

        symbol = cast(list[str], remaining__.pop("symbol"))

        ticker = cast(list[str], remaining__.pop("ticker"))

        timezone = cast(list[str], remaining__.pop("timezone"))

        type_ = cast(list[str], remaining__.pop("type"))

        volume_precision = cast(list[int], remaining__.pop("volume-precision"))

        def _parse_currency_code(data: object) -> list[None | str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                currency_code_type_0 = []
                _currency_code_type_0 = data
                for currency_code_type_0_item_data in _currency_code_type_0:

                    def _parse_currency_code_type_0_item(data: object) -> None | str:
                        if data is None:
                            return data
                        return cast(None | str, data)

                    currency_code_type_0_item = _parse_currency_code_type_0_item(
                        currency_code_type_0_item_data
                    )

                    currency_code_type_0.append(currency_code_type_0_item)

                return currency_code_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[None | str] | None | Unset, data)

        currency_code = _parse_currency_code(remaining__.pop("currency-code", UNSET))

        symbol_group = cls(
            description=description,
            exchange_listed=exchange_listed,
            exchange_traded=exchange_traded,
            fractional=fractional,
            has_daily=has_daily,
            has_intraday=has_intraday,
            has_weekly_and_monthly=has_weekly_and_monthly,
            intraday_multipliers=intraday_multipliers,
            minmov2=minmov2,
            minmovement=minmovement,
            pricescale=pricescale,
            session_regular=session_regular,
            supported_resolutions=supported_resolutions,
            symbol=symbol,
            ticker=ticker,
            timezone=timezone,
            type_=type_,
            volume_precision=volume_precision,
            currency_code=currency_code,
        )

        symbol_group.additional_properties = remaining__
        return symbol_group

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
