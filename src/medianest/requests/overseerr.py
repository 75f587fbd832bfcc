"""`OverseerrService`: Overseerr as the requests pages use it.

What Overseerr says about a title (discover rows, search results, details) is the same for every
user, so it is cached, shared by all of them, for minutes: a page of trending titles costs
Overseerr (and TMDB behind it) one call per few minutes, not one per visitor. What depends on the
user (their requests, what they follow) is never in here; `states.py` adds it per caller from
MediaNest's own tables. A saved connection forgets everything cached of the previous one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from pydantic import TypeAdapter

from medianest.core.cache import CacheService
from medianest.core.errors import ValidationFailed
from medianest.integrations.overseerr.client import DiscoverRow
from medianest.integrations.overseerr.schemas import (
    MediaInfo,
    MovieDetails,
    Result,
    ResultPage,
    TvDetails,
)
from medianest.requests.connection import OverseerrConnectionService
from medianest.requests.schemas import MediaType, SeasonInfo, Title, TitleDetails, TitlePage

CACHE_PREFIX = "overseerr:"
ROWS_TTL = 600.0
SEARCH_TTL = 300.0
DETAILS_TTL = 900.0
# TMDB pages beyond this are rarely wanted, and each one is a call to TMDB.
MAX_PAGE = 50

T = TypeVar("T")

_PAGE = TypeAdapter(TitlePage)
_DETAILS = TypeAdapter(TitleDetails)


class OverseerrService:
    def __init__(self, *, cache: CacheService, connection: OverseerrConnectionService) -> None:
        self._cache = cache
        self._connection = connection

    async def discover(self, row: DiscoverRow, *, page: int = 1) -> TitlePage:
        """Raises `OverseerrNotConnected`, `UpstreamUnavailable`, `UpstreamTimeout`."""
        _check_page(page)

        async def fetch() -> object:
            client = await self._connection.client()
            return _page(await client.discover(row, page=page))

        return await self._cached(f"discover:{row}:{page}", fetch, _PAGE, ROWS_TTL)

    async def search(self, query: str, *, page: int = 1) -> TitlePage:
        """Movies and shows matching `query` (people and collections left out)."""
        text = " ".join(query.split())
        if not text:
            raise ValidationFailed.on("query", "Search query is required.")
        _check_page(page)
        digest = hashlib.sha256(text.casefold().encode()).hexdigest()[:32]

        async def fetch() -> object:
            client = await self._connection.client()
            return _page(await client.search(text, page=page))

        return await self._cached(f"search:{digest}:{page}", fetch, _PAGE, SEARCH_TTL)

    async def details(self, media_type: MediaType, tmdb_id: int) -> TitleDetails:
        """Raises `TitleNotFound` for an id TMDB does not have."""

        async def fetch() -> object:
            client = await self._connection.client()
            if media_type == "movie":
                return _movie(await client.movie(tmdb_id)).model_dump(mode="json")
            return _show(await client.tv(tmdb_id)).model_dump(mode="json")

        return await self._cached(f"{media_type}:{tmdb_id}", fetch, _DETAILS, DETAILS_TTL)

    async def forget_title(self, media_type: MediaType, tmdb_id: int) -> None:
        """Its details changed in Overseerr (requested, approved, available)."""
        await self._cache.delete(CACHE_PREFIX + f"{media_type}:{tmdb_id}")

    async def forget_all(self) -> None:
        """Another Overseerr was connected."""
        await self._cache.invalidate_pattern(CACHE_PREFIX + "*")

    async def _cached(
        self,
        key: str,
        fetch: Callable[[], Awaitable[object]],
        adapter: TypeAdapter[T],
        ttl: float,
    ) -> T:
        return await self._cache.get_or_set_typed(CACHE_PREFIX + key, fetch, adapter, ttl)


def _check_page(page: int) -> None:
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed.on("page", f"Pages go from 1 to {MAX_PAGE}.")


def _page(found: ResultPage) -> dict[str, object]:
    titles = [_title(r) for r in found.results if r.media_type in ("movie", "tv")]
    return TitlePage(
        page=found.page,
        total_pages=min(found.total_pages, MAX_PAGE),
        total_results=found.total_results,
        results=titles,
    ).model_dump(mode="json")


def _media_type(value: str) -> MediaType:
    return "movie" if value == "movie" else "tv"


def _status(info: MediaInfo | None) -> int | None:
    return info.status if info is not None else None


def _title(found: Result) -> Title:
    return Title(
        tmdb_id=found.id,
        media_type=_media_type(found.media_type),
        title=found.display_title,
        year=found.year,
        overview=found.overview,
        poster_path=found.poster_path,
        upstream_status=_status(found.media_info),
    )


def _movie(found: MovieDetails) -> TitleDetails:
    return TitleDetails(
        tmdb_id=found.id,
        media_type="movie",
        title=found.title,
        year=found.release_date.year if found.release_date else None,
        overview=found.overview,
        poster_path=found.poster_path,
        backdrop_path=found.backdrop_path,
        runtime=found.runtime,
        genres=[g.name for g in found.genres],
        upstream_status=_status(found.media_info),
    )


def _show(found: TvDetails) -> TitleDetails:
    statuses = {
        s.season_number: s.status for s in (found.media_info.seasons if found.media_info else [])
    }
    seasons: Sequence[SeasonInfo] = [
        SeasonInfo(
            season_number=s.season_number,
            name=s.name,
            episode_count=s.episode_count,
            upstream_status=statuses.get(s.season_number),
        )
        for s in found.seasons
    ]
    return TitleDetails(
        tmdb_id=found.id,
        media_type="tv",
        title=found.name,
        year=found.first_air_date.year if found.first_air_date else None,
        overview=found.overview,
        poster_path=found.poster_path,
        backdrop_path=found.backdrop_path,
        genres=[g.name for g in found.genres],
        tvdb_id=found.external_ids.tvdb_id if found.external_ids else None,
        number_of_seasons=found.number_of_seasons,
        seasons=list(seasons),
        upstream_status=_status(found.media_info),
    )
