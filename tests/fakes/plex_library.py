"""The library a `FakePlexServer` serves: sections, items, collections, shared tokens, scans.

`reset()` leaves: "Movies" (key 1, /data/movies: Alien, Aliens, Blade Runner, The Matrix, Ex
Machina, Arrival), "TV Shows" (2, /data/tv: Breaking Bad with 2 seasons of 3 episodes, Alias
with 1 season of 2), an Other Videos library "YouTube" (3, movie type, /data/youtube: one clip),
items with imdb/tmdb/tvdb Guids, and the collection "Alien Collection" (Alien, Aliens) in Movies.

Tests change it with `add_section`, `add_movie`, `add_show`, `add_artist` (with its albums and their
tracks, in a library of type `artist`; `add_music()` adds one, "Music"), `add_items(section, n)` (100,000 are
fine: a listing is filtered and sorted once per change and then only sliced), `update_item`
(its `updatedAt` becomes now), `remove_item`, `add_collection`, `share(token, *section_keys)` (a
shared user's server token, which sees only those sections and gets PMS's 401 for the others),
`stage_file(section, file, title)` (found by the first scan covering its folder) and
`scan_polls` (how many section reads still report `refreshing` after a refresh). Look-ups:
`find(title)`, `item(rating_key)`, `members(collection)`, `section(key)`.

Wire shapes are built on the captured ones in `payloads/plex_server/`. Everything holds `lock`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

PAYLOADS = Path(__file__).parent / "payloads" / "plex_server"

# Seeded and generated items are added an hour apart from here; anything a test changes is
# stamped with the real time, so it is always newer.
BASE_TIME = 1_700_000_000

TYPE_IDS = {
    "movie": 1,
    "show": 2,
    "season": 3,
    "episode": 4,
    "artist": 8,
    "album": 9,
    "track": 10,
    "collection": 18,
}
# How far below a library's top items (movies, shows, artists) items of a type are.
_DEPTHS = {"season": 1, "album": 1, "episode": 2, "track": 2}
TYPE_NAMES = {number: name for name, number in TYPE_IDS.items()}


def payload(name: str) -> Any:
    """A fresh copy of a captured JSON shape."""
    return json.loads((PAYLOADS / name).read_text())


_SECTION = payload("sections.json")["MediaContainer"]["Directory"][0]
_TEMPLATES = {
    "movie": payload("section_all.json")["MediaContainer"]["Metadata"][0],
    "show": payload("section_all.json")["MediaContainer"]["Metadata"][1],
    "season": payload("children.json")["MediaContainer"]["Metadata"][0],
    "episode": payload("children.json")["MediaContainer"]["Metadata"][1],
    "collection": payload("collections.json")["MediaContainer"]["Metadata"][0],
    "artist": payload("music.json")["MediaContainer"]["Metadata"][0],
    "album": payload("music.json")["MediaContainer"]["Metadata"][1],
    "track": payload("music.json")["MediaContainer"]["Metadata"][2],
}
# Video files take a movie's media shape, tracks a track's.
_MEDIA = {
    kind: {k: v for k, v in _TEMPLATES[kind]["Media"][0].items() if k != "Part"}
    for kind in ("movie", "track")
}
_PART = {kind: _TEMPLATES[kind]["Media"][0]["Part"][0] for kind in ("movie", "track")}
_HUBS = {hub["type"]: hub for hub in payload("hubs_search.json")["MediaContainer"]["Hub"]}


class Refused(Exception):
    """What PMS answers instead: 400, 401 (its HTML page) or 404."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass(eq=False)
class FakeSection:
    key: str
    type: str
    title: str
    locations: list[str]
    agent: str = "tv.plex.agents.movie"
    scanner: str = "Plex Movie"
    refresh_polls: int = 0
    scanned_at: int = BASE_TIME
    pending_scans: list[str | None] = field(default_factory=list)

    @property
    def refreshing(self) -> bool:
        return self.refresh_polls > 0

    @property
    def item_type(self) -> str:
        return self.type if self.type in ("show", "artist") else "movie"


@dataclass(eq=False, slots=True)
class FakeItem:
    rating_key: str
    type: str
    title: str
    section_key: str
    year: int | None = None
    summary: str = ""
    added_at: int = BASE_TIME
    updated_at: int = BASE_TIME
    duration: int | None = None
    # None: derived from `serial` (imdb tt<serial>, tmdb and tvdb <serial>), which keeps
    # 100,000 generated items small.
    guids: tuple[str, ...] | None = ()
    serial: int = 0
    parent_key: str | None = None
    index: int | None = None
    children: list[str] = field(default_factory=list)
    genres: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    file: str | None = None
    title_sort: str | None = None
    # Raw fields laid over the wire shape last: answers as odd as real servers send.
    wire: dict[str, Any] | None = None

    def guid_ids(self) -> tuple[str, ...]:
        if self.guids is not None:
            return self.guids
        return (f"imdb://tt{self.serial:07d}", f"tmdb://{self.serial}", f"tvdb://{self.serial}")


_SORTS: dict[str, Callable[[FakeItem], Any]] = {
    "titleSort": lambda i: (i.title_sort or i.title).lower(),
    "title": lambda i: i.title.lower(),
    "addedAt": lambda i: i.added_at,
    "updatedAt": lambda i: i.updated_at,
    "year": lambda i: i.year or 0,
}

Filter = tuple[str, str, Any]


class FakeLibrary:
    def __init__(self, machine_identifier: str, owner_token: str) -> None:
        self.machine_identifier = machine_identifier
        self.owner_token = owner_token
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.scan_polls = 1
            self.refreshes: list[tuple[str, str | None]] = []
            self._sections: dict[str, FakeSection] = {}
            self._items: dict[str, FakeItem] = {}
            self._top: dict[str, dict[str, FakeItem]] = {}
            self._collections: dict[str, dict[str, FakeItem]] = {}
            self._shared: dict[str, set[str]] = {}
            self._staged: list[tuple[str, str, str, int | None]] = []
            self._views: dict[tuple[Any, ...], list[FakeItem]] = {}
            self._keys = itertools.count(1001)
            self._stamps = itertools.count(BASE_TIME, 3600)
            self._seed()

    def _seed(self) -> None:
        self.add_section("1", "movie", "Movies", ["/data/movies"])
        self.add_section(
            "2",
            "show",
            "TV Shows",
            ["/data/tv"],
            agent="tv.plex.agents.series",
            scanner="Plex TV Series",
        )
        self.add_section(
            "3",
            "movie",
            "YouTube",
            ["/data/youtube"],
            agent="com.plexapp.agents.none",
            scanner="Plex Video Files Scanner",
        )
        movies = [
            ("Alien", 1979, "tt0078748", 348, ("Sigourney Weaver", "Tom Skerritt")),
            ("Aliens", 1986, "tt0090605", 679, ("Sigourney Weaver", "Michael Biehn")),
            ("Blade Runner", 1982, "tt0083658", 78, ("Harrison Ford",)),
            ("The Matrix", 1999, "tt0133093", 603, ("Keanu Reeves",)),
            ("Ex Machina", 2014, "tt0470752", 264660, ("Alicia Vikander",)),
            ("Arrival", 2016, "tt2543164", 329865, ("Amy Adams",)),
        ]
        for title, year, imdb, tmdb, cast in movies:
            guids = (f"imdb://{imdb}", f"tmdb://{tmdb}")
            sort = title[4:] if title.startswith("The ") else None
            self.add_movie(
                "1",
                title,
                year=year,
                guids=guids,
                cast=cast,
                title_sort=sort,
                genres=("Science Fiction",),
                summary=f"{title}, from {year}.",
            )
        for title, year, seasons, episodes, ids in [
            ("Breaking Bad", 2008, 2, 3, ("imdb://tt0903747", "tmdb://1396", "tvdb://81189")),
            ("Alias", 2001, 1, 2, ("imdb://tt0285333", "tmdb://2046", "tvdb://75911")),
        ]:
            self.add_show("2", title, year=year, seasons=seasons, episodes=episodes, guids=ids)
        self.add_movie(
            "3",
            "Knife Skills 101",
            year=2023,
            guids=(),
            file="/data/youtube/Cooking/Knife Skills 101 [dQw4w9WgXcQ].mp4",
        )
        pair = [self.find("Alien").rating_key, self.find("Aliens").rating_key]
        self.add_collection("1", "Alien Collection", pair)

    # What tests set

    def add_section(
        self, key: str, type: str, title: str, locations: list[str], **fields: Any
    ) -> FakeSection:
        with self.lock:
            section = FakeSection(key, type, title, list(locations), **fields)
            self._sections[key] = section
            self._top.setdefault(key, {})
            self._collections.setdefault(key, {})
            self._views.clear()
            return section

    def add_movie(self, section_key: str, title: str, **fields: Any) -> FakeItem:
        """A movie (any item of a movie-type library), with a file under its first folder."""
        with self.lock:
            section = self._sections[section_key]
            fields.setdefault("duration", 6_000_000)
            if "file" not in fields:
                name = f"{title} ({fields['year']})" if fields.get("year") else title
                fields["file"] = f"{section.locations[0]}/{name}/{name}.mkv"
            item = self._new(section_key, "movie", title, **fields)
            self._top[section_key][item.rating_key] = item
            return item

    def add_show(
        self, section_key: str, title: str, *, seasons: int = 1, episodes: int = 2, **fields: Any
    ) -> FakeItem:
        with self.lock:
            show = self._new(section_key, "show", title, **fields)
            self._top[section_key][show.rating_key] = show
            folder = f"{self._sections[section_key].locations[0]}/{title}"
            for s in range(1, seasons + 1):
                season = self._new(
                    section_key,
                    "season",
                    f"Season {s}",
                    index=s,
                    guids=(),
                    parent_key=show.rating_key,
                    added_at=show.added_at,
                )
                show.children.append(season.rating_key)
                for e in range(1, episodes + 1):
                    tvdb = f"tvdb://{show.serial * 1000 + s * 100 + e}"
                    file = f"{folder}/Season {s:02d}/{title} - s{s:02d}e{e:02d}.mkv"
                    episode = self._new(
                        section_key,
                        "episode",
                        f"Episode {s}x{e:02d}",
                        year=show.year,
                        parent_key=season.rating_key,
                        index=e,
                        duration=2_700_000,
                        added_at=show.added_at,
                        guids=(tvdb,),
                        file=file,
                    )
                    season.children.append(episode.rating_key)
            return show

    def add_artist(
        self,
        section_key: str,
        title: str,
        *,
        albums: Iterable[tuple[str, int | None, Iterable[str]]] = (),
        **fields: Any,
    ) -> FakeItem:
        """An artist of a music library with `albums` (title, year, track titles), each track
        a file of its own, numbered from 1 in its album."""
        with self.lock:
            artist = self._new(section_key, "artist", title, guids=(), **fields)
            self._top[section_key][artist.rating_key] = artist
            folder = f"{self._sections[section_key].locations[0]}/{title}"
            for album_title, year, tracks in albums:
                album = self._new(
                    section_key,
                    "album",
                    album_title,
                    year=year,
                    guids=(),
                    parent_key=artist.rating_key,
                    added_at=artist.added_at,
                )
                artist.children.append(album.rating_key)
                for number, track_title in enumerate(tracks, start=1):
                    track = self._new(
                        section_key,
                        "track",
                        track_title,
                        parent_key=album.rating_key,
                        index=number,
                        duration=180_000 + 17_000 * number,
                        added_at=artist.added_at,
                        guids=(),
                        file=f"{folder}/{album_title}/{number:02d} - {track_title}.flac",
                    )
                    album.children.append(track.rating_key)
            return artist

    def add_music(self, key: str = "4", title: str = "Music") -> FakeSection:
        """A music library at /data/music holding two artists: Miles Davis (Kind of Blue, 5
        tracks; Sketches of Spain, 2) and Nina Simone (Pastel Blues, 3)."""
        with self.lock:
            section = self.add_section(
                key,
                "artist",
                title,
                ["/data/music"],
                agent="tv.plex.agents.music",
                scanner="Plex Music",
            )
            kind_of_blue = ["So What", "Freddie Freeloader", "Blue in Green", "All Blues"]
            self.add_artist(
                key,
                "Miles Davis",
                title_sort="Davis, Miles",
                summary="American jazz trumpeter, bandleader and composer.",
                albums=[
                    ("Kind of Blue", 1959, [*kind_of_blue, "Flamenco Sketches"]),
                    ("Sketches of Spain", 1960, ["Concierto de Aranjuez", "Will o' the Wisp"]),
                ],
            )
            self.add_artist(
                key,
                "Nina Simone",
                title_sort="Simone, Nina",
                albums=[
                    (
                        "Pastel Blues",
                        1965,
                        ["Be My Husband", "Nobody's Fault but Mine", "Sinnerman"],
                    )
                ],
            )
            return section

    def add_items(self, section_key: str, n: int, *, prefix: str = "Generated") -> list[str]:
        """`n` more movies (shows, in a show library) with distinct titles, years and Guids,
        each added after the last; returns their rating keys in that order."""
        with self.lock:
            section = self._sections[section_key]
            top = self._top[section_key]
            keys = []
            for _ in range(n):
                serial = next(self._keys)
                key, stamp = str(serial), next(self._stamps)
                item = FakeItem(
                    key,
                    section.item_type,
                    f"{prefix} {serial}",
                    section_key,
                    year=1950 + serial % 75,
                    added_at=stamp,
                    updated_at=stamp,
                    duration=5_400_000,
                    guids=None,
                    serial=serial,
                    file=f"{section.locations[0]}/{prefix} {serial}.mkv",
                )
                self._items[key] = top[key] = item
                keys.append(key)
            self._views.clear()
            return keys

    def update_item(self, rating_key: str, **fields: Any) -> FakeItem:
        """Change an item as a rescan or an edit would: its `updatedAt` becomes now."""
        with self.lock:
            item = self._items[rating_key]
            for name, value in fields.items():
                setattr(item, name, value)
            item.updated_at = max(int(time.time()), item.updated_at + 1)
            self._views.clear()
            return item

    def remove_item(self, rating_key: str) -> None:
        with self.lock:
            item = self._items.pop(rating_key)
            for key in list(item.children):
                if key in self._items and item.type != "collection":
                    self.remove_item(key)
            self._top[item.section_key].pop(rating_key, None)
            self._collections[item.section_key].pop(rating_key, None)
            for other in self._items.values():
                if rating_key in other.children:
                    other.children.remove(rating_key)
            self._views.clear()

    def add_collection(self, section_key: str, title: str, rating_keys: Iterable[str]) -> FakeItem:
        with self.lock:
            collection = self._new(section_key, "collection", title, guids=())
            collection.children.extend(rating_keys)
            self._collections[section_key][collection.rating_key] = collection
            return collection

    def share(self, token: str, *section_keys: str) -> None:
        """`token` becomes a shared user's server token that may see only `section_keys`."""
        with self.lock:
            self._shared[token] = set(section_keys)

    def stage_file(
        self, section_key: str, file: str, title: str, *, year: int | None = None
    ) -> None:
        """A file Plex will find (as a new movie) when a scan covers its folder."""
        with self.lock:
            self._staged.append((section_key, file, title, year))

    # Look-ups

    def find(self, title: str) -> FakeItem:
        with self.lock:
            return next(i for i in self._items.values() if i.title == title)

    def item(self, rating_key: str) -> FakeItem:
        with self.lock:
            return self._items[rating_key]

    def members(self, collection_key: str) -> list[str]:
        with self.lock:
            return list(self._items[collection_key].children)

    def section(self, key: str) -> FakeSection:
        with self.lock:
            return self._sections[key]

    # What the routes ask (the server holds `lock` around each request)

    def scope(self, token: str | None) -> set[str]:
        """The section keys `token` may see."""
        if token == self.owner_token:
            return set(self._sections)
        if token is not None and token in self._shared:
            return self._shared[token] & set(self._sections)
        raise Refused(401)

    def visible_section(self, key: str, scope: set[str]) -> FakeSection:
        section = self._sections.get(key)
        if section is None:
            raise Refused(404)
        if key not in scope:
            raise Refused(401)
        return section

    def visible_item(self, key: str, scope: set[str], *, kind: str | None = None) -> FakeItem:
        item = self._items.get(key)
        if item is None or (kind is not None and item.type != kind):
            raise Refused(404)
        if item.section_key not in scope:
            raise Refused(401)
        return item

    def children_of(self, item: FakeItem) -> list[FakeItem]:
        return [self._items[k] for k in item.children if k in self._items]

    def sections(self, scope: set[str]) -> list[dict[str, Any]]:
        """`/library/sections` entries; reading one that is refreshing counts as a poll."""
        entries = []
        for section in self._sections.values():
            if section.key not in scope:
                continue
            entry = dict(_SECTION)
            entry.update(
                key=section.key,
                type=section.type,
                title=section.title,
                agent=section.agent,
                scanner=section.scanner,
                refreshing=section.refreshing,
                uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, section.key)),
                scannedAt=section.scanned_at,
                updatedAt=section.scanned_at,
                composite=f"/library/sections/{section.key}/composite/{section.scanned_at}",
                Location=[{"id": i + 1, "path": p} for i, p in enumerate(section.locations)],
            )
            entries.append(entry)
            if section.refreshing:
                section.refresh_polls -= 1
                if not section.refreshing:
                    self._finish_scan(section)
        return entries

    def listing(
        self, section_key: str, type_id: int | None, sort: str, filters: tuple[Filter, ...]
    ) -> list[FakeItem]:
        """The section's items of a type, filtered and sorted once per change of the library."""
        cache_key = (section_key, type_id, sort, filters)
        if (cached := self._views.get(cache_key)) is not None:
            return cached
        if type_id is not None and type_id not in TYPE_NAMES:
            raise Refused(400)
        field_name, _, direction = sort.partition(":")
        if field_name not in _SORTS or direction not in ("", "asc", "desc"):
            raise Refused(400)
        items = self._of_type(section_key, TYPE_NAMES.get(type_id or 0))
        for name, op, value in filters:
            if op == "~":
                items = [i for i in items if value in i.title.lower()]
            elif op == "=":
                items = [i for i in items if i.year == value]
            else:
                stamp = "added_at" if name == "addedAt" else "updated_at"
                items = [i for i in items if (getattr(i, stamp) > value) == (op == ">>")]
        items = sorted(items, key=_SORTS[field_name], reverse=direction == "desc")
        self._views[cache_key] = items
        return items

    def collections_of(self, section_key: str) -> list[FakeItem]:
        return list(self._collections[section_key].values())

    def recently_added(self, section_keys: Iterable[str]) -> list[FakeItem]:
        """Newest first, like PMS: new movies, new episodes grouped as their season, and new
        tracks as their album."""
        items = []
        for key in section_keys:
            for item in self._top[key].values():
                grouped = item.type in ("show", "artist")
                items.extend(self.children_of(item) if grouped else [item])
        return sorted(items, key=lambda i: i.added_at, reverse=True)

    def search(self, query: str, visible: set[str], limit: int) -> list[dict[str, Any]]:
        """`/hubs/search` hubs: titles by type (empty hubs too), then an actors hub of tags."""
        kinds = ("movie", "show", "episode", "artist", "album", "track")
        matches: dict[str, list[FakeItem]] = {kind: [] for kind in kinds}
        actors: dict[str, None] = {}
        for item in self._items.values():
            if item.section_key not in visible:
                continue
            if item.type in matches and query in item.title.lower():
                matches[item.type].append(item)
            actors.update((name, None) for name in item.cast if query in name.lower())
        matches["collection"] = [
            c
            for key in sorted(visible)
            for c in self._collections[key].values()
            if query in c.title.lower()
        ]
        hubs = []
        for kind, found in matches.items():
            hub = {k: v for k, v in _HUBS["movie"].items() if k != "Metadata"}
            hub.update(
                type=kind,
                hubIdentifier=kind,
                context=f"hub.{kind}",
                title=f"{kind}s",
                size=min(len(found), limit),
                more=len(found) > limit,
            )
            if found:
                hub["Metadata"] = [self.wire(i, guids=False) for i in found[:limit]]
            hubs.append(hub)
        names = list(actors)[:limit]
        hub = {k: v for k, v in _HUBS["actor"].items() if k != "Directory"}
        hub["size"] = len(names)
        if names:
            hub["Directory"] = [
                {"id": 100 + n, "tag": name, "thumb": f"https://metadata-static.plex.tv/p/{n}.jpg"}
                for n, name in enumerate(names)
            ]
        return [*hubs, hub]

    def refresh(self, section: FakeSection, path: str | None) -> None:
        """Start a scan (of one folder inside a Location); 400 for a folder outside them."""
        if path is not None and not any(within(path, root) for root in section.locations):
            raise Refused(400)
        self.refreshes.append((section.key, path))
        section.pending_scans.append(path)
        section.refresh_polls = self.scan_polls
        if not section.refreshing:
            self._finish_scan(section)

    def create_collection(
        self, section: FakeSection, title: str, type_id: int, uri: str | None
    ) -> FakeItem:
        if not title.strip() or type_id != TYPE_IDS[section.item_type]:
            raise Refused(400)
        keys = self._uri_keys(uri, section) if uri else []
        return self.add_collection(section.key, title.strip(), keys)

    def add_to_collection(self, collection: FakeItem, uri: str) -> None:
        for key in self._uri_keys(uri, self._sections[collection.section_key]):
            if key not in collection.children:
                collection.children.append(key)
        collection.updated_at = max(int(time.time()), collection.updated_at + 1)
        self._views.clear()

    def remove_from_collection(self, collection: FakeItem, item_key: str) -> None:
        if item_key not in collection.children:
            raise Refused(404)
        collection.children.remove(item_key)
        self._views.clear()

    def wire(self, item: FakeItem, *, guids: bool) -> dict[str, Any]:
        """The item as PMS's JSON has it, built on the captured shape of its type."""
        entry = dict(_TEMPLATES[item.type])
        key, section = item.rating_key, self._sections[item.section_key]
        entry.update(
            ratingKey=key,
            key=f"/library/metadata/{key}",
            title=item.title,
            guid=f"plex://{item.type}/{key:0>24}",
            summary=item.summary,
            addedAt=item.added_at,
            updatedAt=item.updated_at,
            thumb=f"/library/metadata/{key}/thumb/{item.updated_at}",
            art=f"/library/metadata/{key}/art/{item.updated_at}",
            librarySectionID=int(section.key),
            librarySectionTitle=section.title,
            librarySectionKey=f"/library/sections/{section.key}",
        )
        optional = {
            "year": item.year,
            "duration": item.duration,
            "index": item.index,
            "titleSort": item.title_sort,
        }
        for name, value in optional.items():
            if value is None:
                entry.pop(name, None)
            else:
                entry[name] = value
        tags = {
            "Guid": [{"id": g} for g in item.guid_ids()] if guids else [],
            "Genre": [{"tag": t} for t in item.genres],
            "Role": [{"tag": t} for t in item.cast],
            "Director": [],
        }
        for name, value in tags.items():
            if value:
                entry[name] = value
            else:
                entry.pop(name, None)
        if item.file is not None:
            shape = "track" if item.type == "track" else "movie"
            part = {**_PART[shape], "file": item.file, "duration": item.duration}
            entry["Media"] = [{**_MEDIA[shape], "duration": item.duration, "Part": [part]}]
        self._family(entry, item, section)
        if item.wire:
            entry.update(item.wire)
        return entry

    # Inside

    def _new(self, section_key: str, kind: str, title: str, **fields: Any) -> FakeItem:
        serial = next(self._keys)
        stamp = fields.pop("added_at", None) or next(self._stamps)
        fields.setdefault("updated_at", stamp)
        item = FakeItem(
            str(serial), kind, title, section_key, serial=serial, added_at=stamp, **fields
        )
        self._items[item.rating_key] = item
        self._views.clear()
        return item

    def _of_type(self, section_key: str, kind: str | None) -> list[FakeItem]:
        top = list(self._top[section_key].values())
        if kind is None or kind in ("movie", "show", "artist"):
            return [i for i in top if kind is None or i.type == kind]
        if kind == "collection":
            return self.collections_of(section_key)
        level = top
        for _ in range(_DEPTHS.get(kind, 0)):
            level = [child for item in level for child in self.children_of(item)]
        return [i for i in level if i.type == kind]

    def _family(self, entry: dict[str, Any], item: FakeItem, section: FakeSection) -> None:
        key = item.rating_key
        parent = self._items.get(item.parent_key or "")
        if item.type in ("show", "artist"):
            # A show's seasons and episodes; an artist's albums and tracks.
            children = self.children_of(item)
            entry.update(
                key=f"/library/metadata/{key}/children",
                childCount=len(children),
                leafCount=sum(len(c.children) for c in children),
            )
        elif item.type == "season" and parent is not None:
            entry.update(
                key=f"/library/metadata/{key}/children",
                parentRatingKey=parent.rating_key,
                parentTitle=parent.title,
                parentIndex=item.index,
                parentYear=parent.year,
                parentKey=f"/library/metadata/{parent.rating_key}",
                leafCount=len(item.children),
            )
        elif item.type == "episode" and parent is not None:
            show = self._items.get(parent.parent_key or "")
            entry.update(
                parentRatingKey=parent.rating_key,
                parentTitle=parent.title,
                parentIndex=parent.index,
                grandparentTitle=show and show.title,
                grandparentRatingKey=show and show.rating_key,
            )
        elif item.type == "album" and parent is not None:
            entry.update(
                key=f"/library/metadata/{key}/children",
                parentRatingKey=parent.rating_key,
                parentTitle=parent.title,
                parentKey=f"/library/metadata/{parent.rating_key}",
                parentThumb=f"/library/metadata/{parent.rating_key}/thumb/{parent.updated_at}",
                art=f"/library/metadata/{parent.rating_key}/art/{parent.updated_at}",
                leafCount=len(item.children),
            )
        elif item.type == "track" and parent is not None:
            artist = self._items.get(parent.parent_key or "")
            # PMS gives a track its album's cover as its own thumb; `parentIndex` is its disc.
            album_thumb = f"/library/metadata/{parent.rating_key}/thumb/{parent.updated_at}"
            entry.update(
                parentRatingKey=parent.rating_key,
                parentTitle=parent.title,
                parentKey=f"/library/metadata/{parent.rating_key}",
                parentIndex=1,
                parentYear=parent.year,
                parentThumb=album_thumb,
                thumb=album_thumb,
                grandparentTitle=artist and artist.title,
                grandparentRatingKey=artist and artist.rating_key,
                grandparentKey=artist and f"/library/metadata/{artist.rating_key}",
            )
        elif item.type == "collection":
            years = [self._items[k].year or 0 for k in item.children if k in self._items]
            entry.pop("art", None)
            entry.update(
                key=f"/library/collections/{key}/children",
                childCount=str(len(item.children)),
                subtype=section.item_type,
                smart="0",
                minYear=str(min(years, default=0)),
                maxYear=str(max(years, default=0)),
                thumb=f"/library/collections/{key}/composite/{item.updated_at}",
                guid=f"collection://{uuid.uuid5(uuid.NAMESPACE_URL, key)}",
            )

    def _uri_keys(self, uri: str, section: FakeSection) -> list[str]:
        """The keys of `server://MID/com.plexapp.plugins.library/library/metadata/1,2`; 400
        unless they are this server's items of the section's type, in that section."""
        prefix = f"server://{self.machine_identifier}/com.plexapp.plugins.library/library/metadata/"
        if not uri.startswith(prefix):
            raise Refused(400)
        keys = unquote(uri[len(prefix) :]).split(",")
        for key in keys:
            item = self._items.get(key)
            if item is None or item.section_key != section.key or item.type != section.item_type:
                raise Refused(400)
        return keys

    def _finish_scan(self, section: FakeSection) -> None:
        section.scanned_at = max(int(time.time()), section.scanned_at + 1)
        scanned, section.pending_scans = section.pending_scans, []
        for staged in list(self._staged):
            key, file, title, year = staged
            folder = str(PurePosixPath(file).parent)
            if key == section.key and any(p is None or within(folder, p) for p in scanned):
                self._staged.remove(staged)
                self.add_movie(key, title, year=year, file=file)


def within(path: str, folder: str) -> bool:
    candidate, root = PurePosixPath(path), PurePosixPath(folder)
    return ".." not in candidate.parts and (candidate == root or root in candidate.parents)
