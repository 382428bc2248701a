from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.symbol_group import SymbolGroup
from ...models.udf_error import UdfError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    group: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_group: None | str | Unset
    if isinstance(group, Unset):
        json_group = UNSET
    else:
        json_group = group
    params["group"] = json_group

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/symbol_info",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> SymbolGroup | UdfError | None:
    if response.status_code == 200:
        response_200 = SymbolGroup.from_dict(response.json())

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
) -> Response[SymbolGroup | UdfError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    group: None | str | Unset = UNSET,
) -> Response[SymbolGroup | UdfError]:
    """Symbols of a group

     The symbols of a group (an exchange) as UDF's table of lists, one entry per symbol.

    Args:
        group (None | str | Unset): An exchange of /config; every symbol when omitted

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[SymbolGroup | UdfError]
    """

    kwargs = _get_kwargs(
        group=group,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    group: None | str | Unset = UNSET,
) -> SymbolGroup | UdfError | None:
    """Symbols of a group

     The symbols of a group (an exchange) as UDF's table of lists, one entry per symbol.

    Args:
        group (None | str | Unset): An exchange of /config; every symbol when omitted

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        SymbolGroup | UdfError
    """

    return sync_detailed(
        client=client,
        group=group,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    group: None | str | Unset = UNSET,
) -> Response[SymbolGroup | UdfError]:
    """Symbols of a group

     The symbols of a group (an exchange) as UDF's table of lists, one entry per symbol.

    Args:
        group (None | str | Unset): An exchange of /config; every symbol when omitted

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[SymbolGroup | UdfError]
    """

    kwargs = _get_kwargs(
        group=group,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    group: None | str | Unset = UNSET,
) -> SymbolGroup | UdfError | None:
    """Symbols of a group

     The symbols of a group (an exchange) as UDF's table of lists, one entry per symbol.

    Args:
        group (None | str | Unset): An exchange of /config; every symbol when omitted

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        SymbolGroup | UdfError
    """

    return (
        await asyncio_detailed(
            client=client,
            group=group,
        )
    ).parsed
