"""The first administrator's setup checklist on Home: what is left before friends and family can
use MediaNest, each step with where to do it. It is read from what is stored (the Plex
connection, the library index, the accounts), so it disappears by itself once everything is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from medianest.admin.service import AdminService
from medianest.auth.sessions import Principal
from medianest.connections.service import ConnectionService
from medianest.plex.sync import LibrarySync

StepState = Literal["done", "todo", "running"]


@dataclass(frozen=True, slots=True)
class SetupStep:
    title: str
    text: str
    state: StepState
    href: str | None = None
    action: str | None = None
    address: str | None = None
    """An address to show apart, ready to copy."""


@dataclass(frozen=True, slots=True)
class SetupChecklist:
    steps: list[SetupStep]

    @property
    def done(self) -> int:
        return sum(step.state == "done" for step in self.steps)

    @property
    def complete(self) -> bool:
        return self.done == len(self.steps)


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
    connections: ConnectionService,
    library_sync: LibrarySync,
) -> PlexReadiness:
    status = await connections.plex_status(session, admin)
    sync = await library_sync.status(session)
    return PlexReadiness(
        connected=status.configured,
        synced=sync.last_full_sync_at is not None,
        syncing=sync.state == "running" or sync.queued,
    )


async def setup_checklist(
    session: AsyncSession,
    admin: Principal,
    plex: PlexReadiness,
    *,
    users: AdminService,
    address: str,
) -> SetupChecklist:
    """`address` is where people open MediaNest, for the invitation step."""
    _, people = await users.list_users(session, page=1, page_size=1)
    synced: StepState = "done" if plex.synced else "running" if plex.syncing else "todo"
    return SetupChecklist(
        [
            SetupStep(
                "Choose your own password",
                "The first sign-in's password is replaced by one only you know.",
                "todo" if admin.requires_password_change else "done",
                "/change-password",
                "Change the password",
            ),
            SetupStep(
                "Connect your Plex server",
                "Sign in with your Plex account and pick the server, or type its address and"
                " token. Friends and family can sign in with Plex from then on.",
                "done" if plex.connected else "todo",
                "/admin/plex",
                "Connect Plex",
            ),
            SetupStep(
                "Index the library",
                "MediaNest keeps a copy of the library's titles so search is instant and the"
                " library stays visible while Plex is down. It starts by itself once Plex is"
                " connected" + (" and is running now." if synced == "running" else "."),
                synced,
                "/admin/plex#index-heading" if plex.connected else None,
                "See the progress" if synced == "running" else "Open the library index",
            ),
            SetupStep(
                "Invite people",
                "In Plex, share your libraries with their Plex accounts (Settings, then Users &"
                " Sharing). Then send them this address; they choose Sign in with Plex, and the"
                " Help page walks them through the rest.",
                "done" if people > 1 else "todo",
                "/help#getting-started",
                "Read what they will see",
                address,
            ),
        ]
    )
