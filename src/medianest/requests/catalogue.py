"""`Catalogue`: discover rows, search and details as one person sees them.

Overseerr's answers come from `OverseerrService` (cached, shared); the caller's states from
`TitleStates` (their requests, the library index), never cached across users. For a show, each
season gets its own state: in Plex or available in Overseerr, asked for by an open request
(the caller's own or followed one first), or free to request.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.sessions import Principal
from medianest.integrations.overseerr.client import DiscoverRow
from medianest.integrations.overseerr.schemas import MediaStatus
from medianest.requests.accounts import Requester
from medianest.requests.models import OverseerrAccount, RequestClaim, claim_keys
from medianest.requests.overseerr import OverseerrService
from medianest.requests.schemas import (
    Availability,
    MediaType,
    SeasonInfo,
    SeasonRead,
    TitleDetailsRead,
    TitleRead,
)
from medianest.requests.states import TitleStates

_SEASON_UPSTREAM: dict[int, Availability] = {
    MediaStatus.PENDING: "requested",
    MediaStatus.PROCESSING: "processing",
    MediaStatus.PARTIALLY_AVAILABLE: "partially_available",
    MediaStatus.AVAILABLE: "available",
}


class Catalogue:
    def __init__(self, overseerr: OverseerrService, states: TitleStates) -> None:
        self._overseerr = overseerr
        self._states = states

    async def discover(
        self, session: AsyncSession, user: Principal, row: DiscoverRow, *, page: int = 1
    ) -> tuple[list[TitleRead], int]:
        """A page of one discover row, and how many pages it has."""
        found = await self._overseerr.discover(row, page=page)
        return await self._states.read(session, user.id, found.results), found.total_pages

    async def search(
        self, session: AsyncSession, user: Principal, query: str, *, page: int = 1
    ) -> tuple[list[TitleRead], int, int]:
        """A page of movies and shows, how many results in all and how many pages."""
        found = await self._overseerr.search(query, page=page)
        titles = await self._states.read(session, user.id, found.results)
        return titles, found.total_results, found.total_pages

    async def details(
        self, session: AsyncSession, user: Principal, media_type: MediaType, tmdb_id: int
    ) -> TitleDetailsRead:
        """Raises `TitleNotFound`."""
        found = await self._overseerr.details(media_type, tmdb_id)
        (state,) = await self._states.read(session, user.id, [found])
        seasons = await self._seasons(session, found.tmdb_id, found.seasons)
        kept = await session.get(OverseerrAccount, user.id)
        may_4k = kept is not None and Requester(kept.overseerr_id, kept.permissions).may_request_4k(
            media_type
        )
        return TitleDetailsRead(
            **state.model_dump(),
            runtime=found.runtime,
            genres=found.genres,
            backdrop_path=found.backdrop_path,
            number_of_seasons=found.number_of_seasons,
            seasons=seasons,
            may_request_4k=may_4k,
        )

    async def _seasons(
        self, session: AsyncSession, tmdb_id: int, seasons: Sequence[SeasonInfo]
    ) -> list[SeasonRead]:
        if not seasons:
            return []
        numbers = [s.season_number for s in seasons]
        keys = dict(zip(claim_keys("tv", tmdb_id, False, numbers), numbers, strict=True))
        claimed = set(
            await session.scalars(select(RequestClaim.key).where(RequestClaim.key.in_(keys)))
        )
        claimed_seasons = {keys[k] for k in claimed}
        read = []
        for season in seasons:
            availability: Availability = "none"
            if season.upstream_status in (MediaStatus.AVAILABLE, MediaStatus.PARTIALLY_AVAILABLE):
                availability = _SEASON_UPSTREAM[season.upstream_status]
            elif season.season_number in claimed_seasons:
                availability = "requested"
            elif season.upstream_status is not None:
                availability = _SEASON_UPSTREAM.get(season.upstream_status, "none")
            read.append(
                SeasonRead(
                    season_number=season.season_number,
                    name=season.name,
                    episode_count=season.episode_count,
                    availability=availability,
                )
            )
        return read
