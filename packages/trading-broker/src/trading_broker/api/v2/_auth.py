"""Bearer-token authentication of broker API v2."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, HTTPException

from ..._service import BrokerService
from .._http import ErrorMessage

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "The bearer token is not valid"}
}


def bearer_account(service: BrokerService) -> Callable[[str], Awaitable[str]]:
    """A dependency giving the account of the request's bearer token.

    The header is a required parameter, so a request without it is a 422 like any missing
    parameter (the seed's contract); a token that matches no key is a 401.
    """

    async def account(authorization: Annotated[str, Header(description="`Bearer <token>`")]) -> str:
        scheme, _, token = authorization.strip().partition(" ")
        found = await service.authenticate(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if found is None:
            raise HTTPException(
                status_code=401,
                detail="invalid bearer token: send 'Authorization: Bearer <token>' with a token issued for an account",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return found

    return account
