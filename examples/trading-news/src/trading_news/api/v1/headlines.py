"""News API v1: an adapter from the shared news service to the v1 wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import HTTPException, Path, Query
from pydantic import BaseModel, Field

from trading_core import ModuleApi

from ..._models import Headline
from ..._module import NewsModule


class HeadlineOut(BaseModel):
    """A headline as API v1 sends it."""

    id: int
    symbol: str = Field(examples=["AAPL"])
    title: str
    published_at: datetime

    @classmethod
    def of(cls, headline: Headline) -> HeadlineOut:
        return cls(id=headline.id, symbol=headline.symbol, title=headline.title, published_at=headline.published_at)


class NotFound(BaseModel):
    """The body of a 404."""

    detail: str


class NewsApi(ModuleApi):
    """News API v1."""

    module = NewsModule
    version = "v1"

    def __init__(self, module: NewsModule) -> None:
        super().__init__(module)
        service = module.service

        @self.get(
            "/headlines",
            response_model=list[HeadlineOut],
            operation_id="listHeadlines",
            summary="List headlines",
        )
        async def list_headlines(
            symbol: Annotated[
                str | None,
                Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$", description="Only this symbol."),
            ] = None,
        ) -> list[HeadlineOut]:
            """Headlines, newest first, at most ``max_results`` of them; an unknown symbol has none."""
            return [HeadlineOut.of(h) for h in service.list(symbol)]

        @self.get(
            "/headlines/{headline_id}",
            response_model=HeadlineOut,
            operation_id="getHeadline",
            summary="Get a headline",
            responses={404: {"model": NotFound, "description": "No headline has this id"}},
        )
        async def get_headline(headline_id: Annotated[int, Path(ge=1)]) -> HeadlineOut:
            """One headline by its id."""
            headline = service.get(headline_id)
            if headline is None:
                raise HTTPException(status_code=404, detail=f"headline {headline_id} not found")
            return HeadlineOut.of(headline)
