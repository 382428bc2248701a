from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.search_result import SearchResult
from ...models.udf_error import UdfError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    query: str | Unset = "",
    type_: str | Unset = "",
    exchange: str | Unset = "",
    limit: int | Unset = 30,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["query"] = query

    params["type"] = type_

    params["exchange"] = exchange

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/search",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> UdfError | list[SearchResult] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = SearchResult.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 422:
        response_422 = UdfError.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[UdfError | list[SearchResult]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    query: str | Unset = "",
    type_: str | Unset = "",
    exchange: str | Unset = "",
    limit: int | Unset = 30,
) -> Response[UdfError | list[SearchResult]]:
    """Search symbols

     Symbols whose ticker or description contains ``query``.

    Args:
        query (str | Unset):  Default: ''.
        type_ (str | Unset): A value of /config's symbols_types; empty for all Default: ''.
        exchange (str | Unset): A value of /config's exchanges; empty for all Default: ''.
        limit (int | Unset):  Default: 30.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[UdfError | list[SearchResult]]
    """

    kwargs = _get_kwargs(
        query=query,
        type_=type_,
        exchange=exchange,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    query: str | Unset = "",
    type_: str | Unset = "",
    exchange: str | Unset = "",
    limit: int | Unset = 30,
) -> UdfError | list[SearchResult] | None:
    """Search symbols

     Symbols whose ticker or description contains ``query``.

    Args:
        query (str | Unset):  Default: ''.
        type_ (str | Unset): A value of /config's symbols_types; empty for all Default: ''.
        exchange (str | Unset): A value of /config's exchanges; empty for all Default: ''.
        limit (int | Unset):  Default: 30.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        UdfError | list[SearchResult]
    """

    return sync_detailed(
        client=client,
        query=query,
        type_=type_,
        exchange=exchange,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    query: str | Unset = "",
    type_: str | Unset = "",
    exchange: str | Unset = "",
    limit: int | Unset = 30,
) -> Response[UdfError | list[SearchResult]]:
    """Search symbols

     Symbols whose ticker or description contains ``query``.

    Args:
        query (str | Unset):  Default: ''.
        type_ (str | Unset): A value of /config's symbols_types; empty for all Default: ''.
        exchange (str | Unset): A value of /config's exchanges; empty for all Default: ''.
        limit (int | Unset):  Default: 30.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[UdfError | list[SearchResult]]
    """

    kwargs = _get_kwargs(
        query=query,
        type_=type_,
        exchange=exchange,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    query: str | Unset = "",
    type_: str | Unset = "",
    exchange: str | Unset = "",
    limit: int | Unset = 30,
) -> UdfError | list[SearchResult] | None:
    """Search symbols

     Symbols whose ticker or description contains ``query``.

    Args:
        query (str | Unset):  Default: ''.
        type_ (str | Unset): A value of /config's symbols_types; empty for all Default: ''.
        exchange (str | Unset): A value of /config's exchanges; empty for all Default: ''.
        limit (int | Unset):  Default: 30.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        UdfError | list[SearchResult]
    """

    return (
        await asyncio_detailed(
            client=client,
            query=query,
            type_=type_,
            exchange=exchange,
            limit=limit,
        )
    ).parsed
