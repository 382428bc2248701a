from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.execution_report import ExecutionReport
from ...models.http_validation_error import HTTPValidationError
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    order_id: None | str | Unset = UNSET,
    symbol: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_order_id: None | str | Unset
    if isinstance(order_id, Unset):
        json_order_id = UNSET
    else:
        json_order_id = order_id
    params["order_id"] = json_order_id

    json_symbol: None | str | Unset
    if isinstance(symbol, Unset):
        json_symbol = UNSET
    else:
        json_symbol = symbol
    params["symbol"] = json_symbol

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/executions",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> HTTPValidationError | Problem | list[ExecutionReport] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = ExecutionReport.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 422:
        response_422 = HTTPValidationError.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[HTTPValidationError | Problem | list[ExecutionReport]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    order_id: None | str | Unset = UNSET,
    symbol: None | str | Unset = UNSET,
) -> Response[HTTPValidationError | Problem | list[ExecutionReport]]:
    """List executions

     The fills of the account's orders, oldest first.

    Args:
        order_id (None | str | Unset): Only the fills of this order
        symbol (None | str | Unset): Only the fills in this symbol

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HTTPValidationError | Problem | list[ExecutionReport]]
    """

    kwargs = _get_kwargs(
        order_id=order_id,
        symbol=symbol,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    order_id: None | str | Unset = UNSET,
    symbol: None | str | Unset = UNSET,
) -> HTTPValidationError | Problem | list[ExecutionReport] | None:
    """List executions

     The fills of the account's orders, oldest first.

    Args:
        order_id (None | str | Unset): Only the fills of this order
        symbol (None | str | Unset): Only the fills in this symbol

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HTTPValidationError | Problem | list[ExecutionReport]
    """

    return sync_detailed(
        client=client,
        order_id=order_id,
        symbol=symbol,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    order_id: None | str | Unset = UNSET,
    symbol: None | str | Unset = UNSET,
) -> Response[HTTPValidationError | Problem | list[ExecutionReport]]:
    """List executions

     The fills of the account's orders, oldest first.

    Args:
        order_id (None | str | Unset): Only the fills of this order
        symbol (None | str | Unset): Only the fills in this symbol

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HTTPValidationError | Problem | list[ExecutionReport]]
    """

    kwargs = _get_kwargs(
        order_id=order_id,
        symbol=symbol,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    order_id: None | str | Unset = UNSET,
    symbol: None | str | Unset = UNSET,
) -> HTTPValidationError | Problem | list[ExecutionReport] | None:
    """List executions

     The fills of the account's orders, oldest first.

    Args:
        order_id (None | str | Unset): Only the fills of this order
        symbol (None | str | Unset): Only the fills in this symbol

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HTTPValidationError | Problem | list[ExecutionReport]
    """

    return (
        await asyncio_detailed(
            client=client,
            order_id=order_id,
            symbol=symbol,
        )
    ).parsed
