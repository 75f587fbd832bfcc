"""What a poster on the requests pages shows: the title's one state, as a badge, and the one
thing the person can do about it.

The order follows `states.py`: in Plex first, then the caller's own request, one they follow, then
what is on its way, then someone else's request (which they can follow), else a Request button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from medianest.integrations.overseerr.client import DiscoverRow
from medianest.requests.schemas import TitleRead

# TMDB's images, at the width the posters are drawn (twice their CSS width on a phone).
POSTER_BASE = "https://image.tmdb.org/t/p/w342"
MINE_PATH = "/requests/mine"

Action = Literal["open", "mine", "notify", "request", "choose", "none"]

ROWS: dict[DiscoverRow, str] = {
    DiscoverRow.TRENDING: "Trending",
    DiscoverRow.POPULAR_MOVIES: "Popular movies",
    DiscoverRow.POPULAR_TV: "Popular shows",
    DiscoverRow.UPCOMING_MOVIES: "Upcoming movies",
}


@dataclass(frozen=True, slots=True)
class TitleState:
    label: str
    tone: str
    """The badge's modifier class: `ok`, `plex` (yours), `wait` or empty."""
    action: Action
    href: str | None = None
    button: str = ""
    """What the action reads."""


def poster_url(path: str | None) -> str | None:
    return POSTER_BASE + path if path else None


def details_href(title: TitleRead) -> str:
    return f"/requests/{title.media_type}/{title.tmdb_id}"


def request_href(request_id: object) -> str:
    """Where the person finds one of their requests."""
    return f"{MINE_PATH}#request-{request_id}"


def state_of(title: TitleRead) -> TitleState:
    if title.availability == "available":
        href = f"/library/items/{title.plex.rating_key}" if title.plex else None
        return TitleState("In Plex", "ok", "open" if href else "none", href, "Open")
    if title.requested_by_you and title.request_id is not None:
        return TitleState(
            "Requested by you", "plex", "mine", request_href(title.request_id), "My request"
        )
    if title.following and title.request_id is not None:
        return TitleState(
            "You'll be told", "plex", "mine", request_href(title.request_id), "Following"
        )
    if title.availability == "partially_available":
        # A show with some seasons in: the others can still be asked for on its page.
        return TitleState(
            "Partially available", "ok", "choose", details_href(title), "Request more"
        )
    if title.availability == "processing":
        return TitleState("Processing", "wait", "none")
    if title.availability == "requested":
        # A show's request covers some seasons: which ones to follow is chosen on its page.
        if title.media_type == "tv":
            return TitleState("Requested", "wait", "choose", details_href(title), "Notify me too")
        return TitleState("Requested", "wait", "notify", details_href(title), "Notify me too")
    if title.media_type == "tv":
        return TitleState("", "", "choose", details_href(title), "Request")
    return TitleState("", "", "request", details_href(title), "Request")


def kind_of(title: TitleRead) -> str:
    kind = "Movie" if title.media_type == "movie" else "TV show"
    return f"{kind} · {title.year}" if title.year else kind
