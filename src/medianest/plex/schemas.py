"""The Plex library as the API shows it: the typed records the Plex wire adapter returns.

They are declared with the adapter (`integrations.plex.schemas`), which produces them; the plex
domain's routes, pages and cache speak of them under these names.
"""

from __future__ import annotations

from medianest.integrations.plex.schemas import (
    Collection,
    ExternalIds,
    ItemDetail,
    ItemSort,
    ItemType,
    Library,
    LibraryItem,
    Page,
    PlexIdentity,
    SearchHit,
    ServerInfo,
)

__all__ = [
    "Collection",
    "ExternalIds",
    "ItemDetail",
    "ItemSort",
    "ItemType",
    "Library",
    "LibraryItem",
    "Page",
    "PlexIdentity",
    "SearchHit",
    "ServerInfo",
]
