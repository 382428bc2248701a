from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.symbol_info_out_format import SymbolInfoOutFormat
from ..types import UNSET, Unset

T = TypeVar("T", bound="SymbolInfoOut")


@_attrs_define
class SymbolInfoOut:
    """A symbol's description, as TradingView's ``LibrarySymbolInfo``. Carries no ``s`` key.

    Attributes:
        data_status (str):
        description (str):
        exchange (str):
        full_name (str):
        has_daily (bool):
        has_intraday (bool):
        has_weekly_and_monthly (bool):
        intraday_multipliers (list[str]):
        listed_exchange (str):
        minmov (int):
        name (str):
        pricescale (int):
        session (str):
        supported_resolutions (list[str]):
        ticker (str):
        timezone (str):
        type_ (str):
        volume_precision (int):
        currency_code (None | str | Unset):
        format_ (SymbolInfoOutFormat | Unset):  Default: SymbolInfoOutFormat.PRICE.
    """

    data_status: str
    description: str
    exchange: str
    full_name: str
    has_daily: bool
    has_intraday: bool
    has_weekly_and_monthly: bool
    intraday_multipliers: list[str]
    listed_exchange: str
    minmov: int
    name: str
    pricescale: int
    session: str
    supported_resolutions: list[str]
    ticker: str
    timezone: str
    type_: str
    volume_precision: int
    currency_code: None | str | Unset = UNSET
    format_: SymbolInfoOutFormat | Unset = SymbolInfoOutFormat.PRICE
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data_status = self.data_status

        description = self.description

        exchange = self.exchange

        full_name = self.full_name

        has_daily = self.has_daily

        has_intraday = self.has_intraday

        has_weekly_and_monthly = self.has_weekly_and_monthly

        intraday_multipliers = self.intraday_multipliers

        listed_exchange = self.listed_exchange

        minmov = self.minmov

        name = self.name

        pricescale = self.pricescale

        session = self.session

        supported_resolutions = self.supported_resolutions

        ticker = self.ticker

        timezone = self.timezone

        type_ = self.type_

        volume_precision = self.volume_precision

        currency_code: None | str | Unset
        if isinstance(self.currency_code, Unset):
            currency_code = UNSET
        else:
            currency_code = self.currency_code

        format_: str | Unset = UNSET
        if not isinstance(self.format_, Unset):
            format_ = self.format_.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data_status": data_status,
                "description": description,
                "exchange": exchange,
                "full_name": full_name,
                "has_daily": has_daily,
                "has_intraday": has_intraday,
                "has_weekly_and_monthly": has_weekly_and_monthly,
                "intraday_multipliers": intraday_multipliers,
                "listed_exchange": listed_exchange,
                "minmov": minmov,
                "name": name,
                "pricescale": pricescale,
                "session": session,
                "supported_resolutions": supported_resolutions,
                "ticker": ticker,
                "timezone": timezone,
                "type": type_,
                "volume_precision": volume_precision,
            }
        )
        if currency_code is not UNSET:
            field_dict["currency_code"] = currency_code
        if format_ is not UNSET:
            field_dict["format"] = format_

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        data_status = remaining__.pop("data_status")

        description = remaining__.pop("description")

        exchange = remaining__.pop("exchange")

        full_name = remaining__.pop("full_name")

        has_daily = remaining__.pop("has_daily")

        has_intraday = remaining__.pop("has_intraday")

        has_weekly_and_monthly = remaining__.pop("has_weekly_and_monthly")

        intraday_multipliers = cast(list[str], remaining__.pop("intraday_multipliers"))

        listed_exchange = remaining__.pop("listed_exchange")

        minmov = remaining__.pop("minmov")

        name = remaining__.pop("name")

        pricescale = remaining__.pop("pricescale")

        session = remaining__.pop("session")

        supported_resolutions = cast(
            list[str], remaining__.pop("supported_resolutions")
        )

        ticker = remaining__.pop("ticker")

        timezone = remaining__.pop("timezone")

        type_ = remaining__.pop("type")

        volume_precision = remaining__.pop("volume_precision")

        def _parse_currency_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        currency_code = _parse_currency_code(remaining__.pop("currency_code", UNSET))

        _format_ = remaining__.pop("format", UNSET)
        format_: SymbolInfoOutFormat | Unset
        if isinstance(_format_, Unset):
            format_ = UNSET
        else:
            format_ = SymbolInfoOutFormat(_format_)

        symbol_info_out = cls(
            data_status=data_status,
            description=description,
            exchange=exchange,
            full_name=full_name,
            has_daily=has_daily,
            has_intraday=has_intraday,
            has_weekly_and_monthly=has_weekly_and_monthly,
            intraday_multipliers=intraday_multipliers,
            listed_exchange=listed_exchange,
            minmov=minmov,
            name=name,
            pricescale=pricescale,
            session=session,
            supported_resolutions=supported_resolutions,
            ticker=ticker,
            timezone=timezone,
            type_=type_,
            volume_precision=volume_precision,
            currency_code=currency_code,
            format_=format_,
        )

        symbol_info_out.additional_properties = remaining__
        return symbol_info_out

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
