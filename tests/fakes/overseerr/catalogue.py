"""The TMDB titles the fake serves, and their MovieResult/TvResult/details shapes.

The default catalogue is `payloads/overseerr/catalogue.json`: a few real titles (some with
reserved characters in their names, for the query-encoding rules) and a recipe for the rest, which
are generated in a fixed order so ids, titles and years are the same on every run. Upcoming movies
are dated from today, since that is what "upcoming" means to TMDB.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

PAYLOADS = Path(__file__).parent.parent / "payloads" / "overseerr"

MediaType = Literal["movie", "tv"]


def payload(name: str) -> Any:
    """A fresh copy of a captured JSON shape."""
    return json.loads((PAYLOADS / name).read_text())


@dataclass
class Title:
    media_type: MediaType
    tmdb_id: int
    name: str
    release_date: str
    overview: str
    poster_path: str | None
    popularity: float
    runtime: int = 100
    tvdb_id: int | None = None
    imdb_id: str | None = None
    seasons: dict[int, int] = field(default_factory=dict)

    @property
    def year(self) -> str:
        return self.release_date[:4]


def movie(
    tmdb_id: int,
    title: str,
    *,
    year: int = 2020,
    overview: str | None = None,
    poster_path: str | None = None,
    runtime: int = 100,
    popularity: float = 10.0,
    release_date: str | None = None,
    imdb_id: str | None = None,
) -> Title:
    return Title(
        media_type="movie",
        tmdb_id=tmdb_id,
        name=title,
        release_date=release_date or f"{year}-06-15",
        overview=overview if overview is not None else f"{title}, a film from {year}.",
        poster_path=poster_path,
        popularity=popularity,
        runtime=runtime,
        imdb_id=imdb_id,
    )


def show(
    tmdb_id: int,
    name: str,
    *,
    seasons: dict[int, int] | None = None,
    tvdb_id: int | None = None,
    year: int = 2020,
    overview: str | None = None,
    poster_path: str | None = None,
    popularity: float = 10.0,
) -> Title:
    return Title(
        media_type="tv",
        tmdb_id=tmdb_id,
        name=name,
        release_date=f"{year}-09-01",
        overview=overview if overview is not None else f"{name}, a series from {year}.",
        poster_path=poster_path,
        popularity=popularity,
        tvdb_id=tvdb_id,
        seasons=dict(seasons) if seasons is not None else {1: 10},
    )


def default_catalogue() -> list[Title]:
    recipe = payload("catalogue.json")
    titles = [
        movie(
            m["id"],
            m["title"],
            year=m["year"],
            runtime=m["runtime"],
            popularity=m["popularity"],
            poster_path=m["posterPath"],
            imdb_id=m["imdbId"],
        )
        for m in recipe["movies"]
    ]
    titles += [
        show(
            s["id"],
            s["name"],
            year=s["year"],
            tvdb_id=s["tvdbId"],
            popularity=s["popularity"],
            poster_path=s["posterPath"],
            seasons={int(n): count for n, count in s["seasons"].items()},
        )
        for s in recipe["shows"]
    ]
    generated = recipe["generated"]
    names = [f"{a} {n}" for n in generated["nouns"] for a in generated["adjectives"]]
    upcoming_from = generated["movies"] - generated["upcomingMovies"]
    for i in range(generated["movies"]):
        tmdb_id = generated["firstMovieId"] + i
        release = (
            (date.today() + timedelta(days=30 * (i - upcoming_from + 1))).isoformat()
            if i >= upcoming_from
            else None
        )
        titles.append(
            movie(
                tmdb_id,
                f"The {names[i]}",
                year=1980 + (i * 7) % 44,
                release_date=release,
                runtime=85 + (i * 13) % 70,
                popularity=round(80.0 - i * 2.5, 1),
                poster_path=f"/fake{tmdb_id}.jpg",
            )
        )
    for i in range(generated["shows"]):
        tmdb_id = generated["firstShowId"] + i
        titles.append(
            show(
                tmdb_id,
                f"{names[-1 - i]}s",
                year=1995 + (i * 5) % 30,
                tvdb_id=generated["firstTvdbId"] + i,
                popularity=round(60.0 - i * 3.5, 1),
                poster_path=f"/fake{tmdb_id}.jpg",
                seasons={n: 8 + n for n in range(1, 2 + i % 4)},
            )
        )
    return titles


def result_json(title: Title, media_info: dict[str, Any] | None) -> dict[str, Any]:
    """A MovieResult or TvResult; `mediaInfo` only when Overseerr has a media row for it."""
    if title.media_type == "movie":
        body: dict[str, Any] = payload("movie_result.json")
        body.update(
            id=title.tmdb_id,
            title=title.name,
            originalTitle=title.name,
            releaseDate=title.release_date,
        )
    else:
        body = payload("tv_result.json")
        body.update(
            id=title.tmdb_id,
            name=title.name,
            originalName=title.name,
            firstAirDate=title.release_date,
        )
    body.update(overview=title.overview, popularity=title.popularity, posterPath=title.poster_path)
    body["backdropPath"] = f"/backdrop{title.tmdb_id}.jpg"
    if media_info is not None:
        body["mediaInfo"] = media_info
    return body


def details_json(title: Title, media_info: dict[str, Any] | None) -> dict[str, Any]:
    """MovieDetails or TvDetails, as `GET /movie/{id}` and `GET /tv/{id}` answer."""
    if title.media_type == "movie":
        body: dict[str, Any] = payload("movie_details.json")
        body.update(
            id=title.tmdb_id,
            title=title.name,
            originalTitle=title.name,
            releaseDate=title.release_date,
            runtime=title.runtime,
            imdbId=title.imdb_id,
        )
        body["externalIds"]["imdbId"] = title.imdb_id
        if title.tmdb_id != 945961:
            # The collection and credits in the payload belong to the captured title only.
            del body["collection"]
            body["credits"] = {"cast": [], "crew": []}
    else:
        body = payload("tv_details.json")
        template = body["seasons"][-1]
        seasons = []
        for number, episodes in sorted(title.seasons.items()):
            season = copy.deepcopy(template)
            season.update(
                id=title.tmdb_id * 100 + number,
                seasonNumber=number,
                name="Specials" if number == 0 else f"Season {number}",
                episodeCount=episodes,
                airDate=f"{int(title.year) + max(number - 1, 0)}-09-01",
                posterPath=f"/season{title.tmdb_id}-{number}.jpg",
            )
            seasons.append(season)
        regular = [n for n in title.seasons if n > 0]
        body.update(
            id=title.tmdb_id,
            name=title.name,
            originalName=title.name,
            firstAirDate=title.release_date,
            seasons=seasons,
            numberOfSeasons=len(regular),
            numberOfEpisodes=sum(title.seasons[n] for n in regular),
        )
        body["externalIds"]["tvdbId"] = title.tvdb_id
        if title.tmdb_id != 1399:
            body["createdBy"] = []
            del body["lastEpisodeToAir"]
    body.update(overview=title.overview, popularity=title.popularity, posterPath=title.poster_path)
    body["backdropPath"] = f"/backdrop{title.tmdb_id}.jpg"
    if media_info is not None:
        body["mediaInfo"] = media_info
    return body
