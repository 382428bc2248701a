from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.history_bars import HistoryBars
from ...models.history_no_data import HistoryNoData
from ...models.udf_error import UdfError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    symbol: str,
    resolution: str,
    to: int,
    from_: int | None | Unset = UNSET,
    countback: int | None | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["symbol"] = symbol

    params["resolution"] = resolution

    params["to"] = to

    json_from_: int | None | Unset
    if isinstance(from_, Unset):
        json_from_ = UNSET
    else:
        json_from_ = from_
    params["from"] = json_from_

    json_countback: int | None | Unset
    if isinstance(countback, Unset):
        json_countback = UNSET
    else:
        json_countback = countback
    params["countback"] = json_countback

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/history",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> HistoryBars | HistoryNoData | UdfError | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> HistoryBars | HistoryNoData:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = HistoryBars.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = HistoryNoData.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

        return response_200

    if response.status_code == 404:
        response_404 = UdfError.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = UdfError.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = UdfError.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = UdfError.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[HistoryBars | HistoryNoData | UdfError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    symbol: str,
    resolution: str,
    to: int,
    from_: int | None | Unset = UNSET,
    countback: int | None | Unset = UNSET,
) -> Response[HistoryBars | HistoryNoData | UdfError]:
    """Bars

     Bars stamped in ``[from, to)``, or the ``countback`` bars before ``to``. Daily and longer
    bars are stamped at 00:00 UTC.

    Args:
        symbol (str):
        resolution (str): 1, 5, 15, 30, 60, 240, 1D, 1W or 1M
        to (int): End of the range, exclusive (Unix seconds)
        from_ (int | None | Unset): Start of the range, inclusive (Unix seconds)
        countback (int | None | Unset): Bars wanted before `to`; when given, `from` is ignored

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HistoryBars | HistoryNoData | UdfError]
    """

    kwargs = _get_kwargs(
        symbol=symbol,
        resolution=resolution,
        to=to,
        from_=from_,
        countback=countback,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    symbol: str,
    resolution: str,
    to: int,
    from_: int | None | Unset = UNSET,
    countback: int | None | Unset = UNSET,
) -> HistoryBars | HistoryNoData | UdfError | None:
    """Bars

     Bars stamped in ``[from, to)``, or the ``countback`` bars before ``to``. Daily and longer
    bars are stamped at 00:00 UTC.

    Args:
        symbol (str):
        resolution (str): 1, 5, 15, 30, 60, 240, 1D, 1W or 1M
        to (int): End of the range, exclusive (Unix seconds)
        from_ (int | None | Unset): Start of the range, inclusive (Unix seconds)
        countback (int | None | Unset): Bars wanted before `to`; when given, `from` is ignored

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HistoryBars | HistoryNoData | UdfError
    """

    return sync_detailed(
        client=client,
        symbol=symbol,
        resolution=resolution,
        to=to,
        from_=from_,
        countback=countback,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    symbol: str,
    resolution: str,
    to: int,
    from_: int | None | Unset = UNSET,
    countback: int | None | Unset = UNSET,
) -> Response[HistoryBars | HistoryNoData | UdfError]:
    """Bars

     Bars stamped in ``[from, to)``, or the ``countback`` bars before ``to``. Daily and longer
    bars are stamped at 00:00 UTC.

    Args:
        symbol (str):
        resolution (str): 1, 5, 15, 30, 60, 240, 1D, 1W or 1M
        to (int): End of the range, exclusive (Unix seconds)
        from_ (int | None | Unset): Start of the range, inclusive (Unix seconds)
        countback (int | None | Unset): Bars wanted before `to`; when given, `from` is ignored

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HistoryBars | HistoryNoData | UdfError]
    """

    kwargs = _get_kwargs(
        symbol=symbol,
        resolution=resolution,
        to=to,
        from_=from_,
        countback=countback,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    symbol: str,
    resolution: str,
    to: int,
    from_: int | None | Unset = UNSET,
    countback: int | None | Unset = UNSET,
) -> HistoryBars | HistoryNoData | UdfError | None:
    """Bars

     Bars stamped in ``[from, to)``, or the ``countback`` bars before ``to``. Daily and longer
    bars are stamped at 00:00 UTC.

    Args:
        symbol (str):
        resolution (str): 1, 5, 15, 30, 60, 240, 1D, 1W or 1M
        to (int): End of the range, exclusive (Unix seconds)
        from_ (int | None | Unset): Start of the range, inclusive (Unix seconds)
        countback (int | None | Unset): Bars wanted before `to`; when given, `from` is ignored

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HistoryBars | HistoryNoData | UdfError
    """

    return (
        await asyncio_detailed(
            client=client,
            symbol=symbol,
            resolution=resolution,
            to=to,
            from_=from_,
            countback=countback,
        )
    ).parsed
