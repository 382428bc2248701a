from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.mark_out import MarkOut
from ...models.udf_error import UdfError
from ...types import UNSET, Response


def _get_kwargs(
    *,
    symbol: str,
    from_: int,
    to: int,
    resolution: str,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["symbol"] = symbol

    params["from"] = from_

    params["to"] = to

    params["resolution"] = resolution

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/marks",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> UdfError | list[MarkOut] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = MarkOut.from_dict(response_200_item_data)

            response_200.append(response_200_item)

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
) -> Response[UdfError | list[MarkOut]]:
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
    from_: int,
    to: int,
    resolution: str,
) -> Response[UdfError | list[MarkOut]]:
    """Marks on bars

     A mark on each day in the range whose close moved at least 2.5 times its 20-day average
    move (green up, red down).

    Args:
        symbol (str):
        from_ (int): Start of the range, inclusive (Unix seconds)
        to (int): End of the range, exclusive (Unix seconds)
        resolution (str): The chart's resolution

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[UdfError | list[MarkOut]]
    """

    kwargs = _get_kwargs(
        symbol=symbol,
        from_=from_,
        to=to,
        resolution=resolution,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    symbol: str,
    from_: int,
    to: int,
    resolution: str,
) -> UdfError | list[MarkOut] | None:
    """Marks on bars

     A mark on each day in the range whose close moved at least 2.5 times its 20-day average
    move (green up, red down).

    Args:
        symbol (str):
        from_ (int): Start of the range, inclusive (Unix seconds)
        to (int): End of the range, exclusive (Unix seconds)
        resolution (str): The chart's resolution

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        UdfError | list[MarkOut]
    """

    return sync_detailed(
        client=client,
        symbol=symbol,
        from_=from_,
        to=to,
        resolution=resolution,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    symbol: str,
    from_: int,
    to: int,
    resolution: str,
) -> Response[UdfError | list[MarkOut]]:
    """Marks on bars

     A mark on each day in the range whose close moved at least 2.5 times its 20-day average
    move (green up, red down).

    Args:
        symbol (str):
        from_ (int): Start of the range, inclusive (Unix seconds)
        to (int): End of the range, exclusive (Unix seconds)
        resolution (str): The chart's resolution

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[UdfError | list[MarkOut]]
    """

    kwargs = _get_kwargs(
        symbol=symbol,
        from_=from_,
        to=to,
        resolution=resolution,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    symbol: str,
    from_: int,
    to: int,
    resolution: str,
) -> UdfError | list[MarkOut] | None:
    """Marks on bars

     A mark on each day in the range whose close moved at least 2.5 times its 20-day average
    move (green up, red down).

    Args:
        symbol (str):
        from_ (int): Start of the range, inclusive (Unix seconds)
        to (int): End of the range, exclusive (Unix seconds)
        resolution (str): The chart's resolution

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        UdfError | list[MarkOut]
    """

    return (
        await asyncio_detailed(
            client=client,
            symbol=symbol,
            from_=from_,
            to=to,
            resolution=resolution,
        )
    ).parsed
