from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.symbol_info_out import SymbolInfoOut
from ...models.udf_error import UdfError
from ...types import UNSET, Response


def _get_kwargs(
    *,
    symbol: str,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["symbol"] = symbol

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/symbols",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> SymbolInfoOut | UdfError | None:
    if response.status_code == 200:
        response_200 = SymbolInfoOut.from_dict(response.json())

        return response_200

    if response.status_code == 404:
        response_404 = UdfError.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = UdfError.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[SymbolInfoOut | UdfError]:
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
) -> Response[SymbolInfoOut | UdfError]:
    """Resolve a symbol

     A symbol's description, by ticker or full name.

    Args:
        symbol (str): TICKER or EXCHANGE:TICKER

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[SymbolInfoOut | UdfError]
    """

    kwargs = _get_kwargs(
        symbol=symbol,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    symbol: str,
) -> SymbolInfoOut | UdfError | None:
    """Resolve a symbol

     A symbol's description, by ticker or full name.

    Args:
        symbol (str): TICKER or EXCHANGE:TICKER

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        SymbolInfoOut | UdfError
    """

    return sync_detailed(
        client=client,
        symbol=symbol,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    symbol: str,
) -> Response[SymbolInfoOut | UdfError]:
    """Resolve a symbol

     A symbol's description, by ticker or full name.

    Args:
        symbol (str): TICKER or EXCHANGE:TICKER

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[SymbolInfoOut | UdfError]
    """

    kwargs = _get_kwargs(
        symbol=symbol,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    symbol: str,
) -> SymbolInfoOut | UdfError | None:
    """Resolve a symbol

     A symbol's description, by ticker or full name.

    Args:
        symbol (str): TICKER or EXCHANGE:TICKER

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        SymbolInfoOut | UdfError
    """

    return (
        await asyncio_detailed(
            client=client,
            symbol=symbol,
        )
    ).parsed
