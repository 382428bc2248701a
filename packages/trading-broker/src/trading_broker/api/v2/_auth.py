"""Bearer-token authentication of broker API v2, for its HTTP endpoints and its streams."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.websockets import WebSocket

from trading_core.streams import Authenticator, Identity, StreamRefused

from ..._errors import DatabaseUnavailable
from ..._service import BrokerService
from .._http import ErrorMessage

SCHEME_NAME = "BrokerBearer"
TOKEN_QUERY = "access_token"
"""The query parameter a stream handshake may carry its token in (RFC 6750's name), for browsers,
which cannot set headers on a WebSocket."""

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "The bearer token is not valid"}
}
MISSING = (
    "send 'Authorization: Bearer <token>' with an API key of the broker "
    "(`trading-host broker keys create <account>` prints one)"
)
"""What the 422 of a request without the header says after FastAPI's "Field required"."""
MISSING_HINTS = {("header", "authorization"): MISSING}
INVALID = "invalid bearer token: send 'Authorization: Bearer <token>' with a token issued for an account"
INVALID_STREAM = (
    "invalid bearer token: send a token issued for an account, "
    f"as 'Authorization: Bearer <token>' or ?{TOKEN_QUERY}=<token>"
)

# Declares the scheme in the OpenAPI document (securitySchemes, and security on each operation);
# with auto_error off it only parses, and the errors below stay the broker's own.
BEARER = HTTPBearer(
    scheme_name=SCHEME_NAME,
    description=(
        "An API key of the broker (`trading-broker keys create <account>`), acting for its account, sent as "
        "`Authorization: Bearer <token>`. A request without the header is refused with 422, as a missing "
        "parameter whose message says what to send; a token that matches no key, or a revoked one, with 401."
    ),
    auto_error=False,
)


async def _account(service: BrokerService, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    token = credentials.credentials.strip() if credentials is not None else ""
    return await service.authenticate(token) if token else None


def bearer_account(service: BrokerService) -> Callable[..., Awaitable[str]]:
    """A dependency giving the account of the request's bearer token.

    The header is also a required parameter, kept out of the OpenAPI document (the security scheme
    describes it): a request without it is a 422 like any missing parameter (the seed's
    contract, kept), whose message says what to send (:data:`MISSING`); a token that matches no
    key is a 401.
    """

    async def account(
        _authorization: Annotated[str, Header(alias="authorization", include_in_schema=False)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    ) -> str:
        found = await _account(service, credentials)
        if found is None:
            raise HTTPException(status_code=401, detail=INVALID, headers={"WWW-Authenticate": "Bearer"})
        return found

    return account


def stream_authenticator(service: BrokerService) -> Authenticator:
    """The authentication of a stream handshake: ``Authorization: Bearer <token>`` as over HTTP,
    or, when the header is absent, ``?access_token=<token>``. No credentials: refused with 422;
    a token that matches no key: 401."""

    async def authenticate(websocket: WebSocket) -> Identity:
        try:
            return await _identity(websocket)
        except DatabaseUnavailable as exc:
            raise StreamRefused(503, str(exc)) from exc

    async def _identity(websocket: WebSocket) -> Identity:
        if "authorization" in websocket.headers:
            account = await _account(service, await BEARER(websocket))
        elif TOKEN_QUERY in websocket.query_params:
            token = websocket.query_params[TOKEN_QUERY].strip()
            account = await service.authenticate(token) if token else None
        else:
            raise StreamRefused(
                422,
                "missing credentials: send 'Authorization: Bearer <token>', or from a browser (which cannot "
                f"set headers on a WebSocket) add ?{TOKEN_QUERY}=<token> to the URL",
            )
        if account is None:
            raise StreamRefused(401, INVALID_STREAM)
        return Identity(account)

    return authenticate
