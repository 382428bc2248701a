from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.quotes import Quotes
from ...models.udf_error import UdfError
from ...types import UNSET, Response


def _get_kwargs(
    *,
    symbols: str,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["symbols"] = symbols

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/quotes",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Quotes | UdfError | None:
    if response.status_code == 200:
        response_200 = Quotes.from_dict(response.json())

        return response_200

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
) -> Response[Quotes | UdfError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    symbols: str,
) -> Response[Quotes | UdfError]:
    """Quotes

     A quote per requested symbol; an unknown one gets an error entry and the others still answer.

    Args:
        symbols (str): Comma-separated names

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Quotes | UdfError]
    """

    kwargs = _get_kwargs(
        symbols=symbols,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    symbols: str,
) -> Quotes | UdfError | None:
    """Quotes

     A quote per requested symbol; an unknown one gets an error entry and the others still answer.

    Args:
        symbols (str): Comma-separated names

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Quotes | UdfError
    """

    return sync_detailed(
        client=client,
        symbols=symbols,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    symbols: str,
) -> Response[Quotes | UdfError]:
    """Quotes

     A quote per requested symbol; an unknown one gets an error entry and the others still answer.

    Args:
        symbols (str): Comma-separated names

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Quotes | UdfError]
    """

    kwargs = _get_kwargs(
        symbols=symbols,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    symbols: str,
) -> Quotes | UdfError | None:
    """Quotes

     A quote per requested symbol; an unknown one gets an error entry and the others still answer.

    Args:
        symbols (str): Comma-separated names

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Quotes | UdfError
    """

    return (
        await asyncio_detailed(
            client=client,
            symbols=symbols,
        )
    ).parsed
