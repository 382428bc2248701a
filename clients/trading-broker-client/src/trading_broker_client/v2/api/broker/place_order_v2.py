from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_message import ErrorMessage
from ...models.http_validation_error import HTTPValidationError
from ...models.placed_order_v2 import PlacedOrderV2
from ...models.pre_order_v2 import PreOrderV2
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: PreOrderV2,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["idempotency-key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/orders",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorMessage | HTTPValidationError | PlacedOrderV2 | Problem | None:
    if response.status_code == 200:
        response_200 = PlacedOrderV2.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ErrorMessage.from_dict(response.json())

        return response_401

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
) -> Response[ErrorMessage | HTTPValidationError | PlacedOrderV2 | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: PreOrderV2,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[ErrorMessage | HTTPValidationError | PlacedOrderV2 | Problem]:
    """Place an order

     Place an order; market orders fill at once at the last price.

    Args:
        idempotency_key (None | str | Unset): Retries with the same key get the first answer
            instead of a second order
        body (PreOrderV2): An order to place. Unknown fields are refused, so a typo is not
            silently ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | HTTPValidationError | PlacedOrderV2 | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: PreOrderV2,
    idempotency_key: None | str | Unset = UNSET,
) -> ErrorMessage | HTTPValidationError | PlacedOrderV2 | Problem | None:
    """Place an order

     Place an order; market orders fill at once at the last price.

    Args:
        idempotency_key (None | str | Unset): Retries with the same key get the first answer
            instead of a second order
        body (PreOrderV2): An order to place. Unknown fields are refused, so a typo is not
            silently ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | HTTPValidationError | PlacedOrderV2 | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: PreOrderV2,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[ErrorMessage | HTTPValidationError | PlacedOrderV2 | Problem]:
    """Place an order

     Place an order; market orders fill at once at the last price.

    Args:
        idempotency_key (None | str | Unset): Retries with the same key get the first answer
            instead of a second order
        body (PreOrderV2): An order to place. Unknown fields are refused, so a typo is not
            silently ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | HTTPValidationError | PlacedOrderV2 | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: PreOrderV2,
    idempotency_key: None | str | Unset = UNSET,
) -> ErrorMessage | HTTPValidationError | PlacedOrderV2 | Problem | None:
    """Place an order

     Place an order; market orders fill at once at the last price.

    Args:
        idempotency_key (None | str | Unset): Retries with the same key get the first answer
            instead of a second order
        body (PreOrderV2): An order to place. Unknown fields are refused, so a typo is not
            silently ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | HTTPValidationError | PlacedOrderV2 | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
