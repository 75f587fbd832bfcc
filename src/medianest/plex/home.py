"""What Plex adds to the first administrator's setup checklist on Home: connecting the Plex
server and indexing its library, read from what is stored, so each step is ticked by itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.sessions import Principal
from medianest.plex.callers import CONNECT_PATH
from medianest.plex.connection import PlexConnectionService
from medianest.plex.sync import LibrarySync
from medianest.web.extensions import CardNote, HomeContext, SetupStep, StepState


@dataclass(frozen=True, slots=True)
class PlexReadiness:
    """What Home needs to know about Plex: connected, and whether the library was indexed."""

    connected: bool
    synced: bool
    syncing: bool


async def plex_readiness(
    session: AsyncSession,
    admin: Principal,
    *,
    connections: PlexConnectionService,
    library_sync: LibrarySync,
) -> PlexReadiness:
    status = await connections.plex_status(session, admin)
    sync = await library_sync.status(session)
    return PlexReadiness(
        connected=status.configured,
        synced=sync.last_full_sync_at is not None,
        syncing=sync.state == "running" or sync.queued,
    )


async def setup_steps(home: HomeContext) -> Sequence[SetupStep]:
    services = home.request.state.services
    plex = await plex_readiness(
        home.session,
        home.user,
        connections=services.plex_connection,
        library_sync=services.library_sync,
    )
    synced: StepState = "done" if plex.synced else "running" if plex.syncing else "todo"
    return (
        SetupStep(
            "Connect your Plex server",
            "Sign in with your Plex account and pick the server, or type its address and"
            " token. Friends and family can sign in with Plex from then on.",
            "done" if plex.connected else "todo",
            CONNECT_PATH,
            "Connect Plex",
            holds_up=CardNote(
                "library", "Waiting for the Plex server:", "connect it in Admin", CONNECT_PATH
            ),
        ),
        SetupStep(
            "Index the library",
            "MediaNest keeps a copy of the library's titles so search is instant and the"
            " library stays visible while Plex is down. It starts by itself once Plex is"
            " connected" + (" and is running now." if synced == "running" else "."),
            synced,
            f"{CONNECT_PATH}#index-heading" if plex.connected else None,
            "See the progress" if synced == "running" else "Open the library index",
        ),
    )
