"""Dependencies of the Plex routes, declared once as named aliases."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Depends, Request, Response

from medianest.plex.answers import Cached
from medianest.plex.service import PlexService

T = TypeVar("T")


async def get_plex_service(request: Request) -> PlexService:
    service: PlexService = request.state.services.plex
    return service


PlexServiceDep = Annotated[PlexService, Depends(get_plex_service)]


def served(response: Response, answer: Cached[T]) -> T:
    """The answer's value; the response says whether it came from the cache (`X-Cache`)."""
    response.headers["X-Cache"] = "HIT" if answer.hit else "MISS"
    return answer.value
