"""Whether a Plex account may use MediaNest: it must own the connected Plex server, or be shared it.

The server names itself by the `machineIdentifier` of its open `/identity`; plex.tv tells who owns
the owner token and, in the owner's friends list, which of the owner's servers each friend may use.
Both facts about the server are kept for a while; the friends list is read on every check, so a
newly shared friend can sign in at once and an unshared one no longer can.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from medianest.config import Settings
from medianest.core.errors import UpstreamUnavailable
from medianest.integrations.plex.errors import (
    PLEX_TV,
    NotAPlexServer,
    PlexRejected,
    PlexTvTokenRefused,
    PlexUnexpectedAnswer,
    PlexUnreadableAnswer,
)
from medianest.integrations.plex.servers import PlexServers
from medianest.integrations.plex.tv import PlexAccount, PlexTvClient

log = structlog.get_logger(__name__)

SERVER_FACTS_TTL = 600.0


@dataclass(frozen=True)
class PlexServerConnection:
    """Where the Plex Media Server is, and its owner's plex.tv token."""

    url: str
    owner_token: str = field(repr=False)


# Returns None while no Plex server is connected.
ConnectionSource = Callable[[], Awaitable[PlexServerConnection | None]]


def settings_connection(settings: Settings) -> ConnectionSource:
    """The connection given by `MEDIANEST_PLEX_URL` and `MEDIANEST_PLEX_TOKEN`, if both are set."""

    async def connection() -> PlexServerConnection | None:
        if settings.plex_url is None or settings.plex_token is None:
            return None
        token = settings.plex_token.get_secret_value()
        return PlexServerConnection(settings.plex_url, token) if token else None

    return connection


class AccessDecision(enum.StrEnum):
    OWNER = "owner"
    SHARED_USER = "shared_user"
    NO_ACCESS = "no_access"
    NO_SERVER = "no_server"

    @property
    def allowed(self) -> bool:
        return self in (AccessDecision.OWNER, AccessDecision.SHARED_USER)


@dataclass(frozen=True)
class _ServerFacts:
    connection: PlexServerConnection
    machine_identifier: str
    owner_id: int
    read_at: float


class PlexServerAccess:
    """Decides whether a Plex account may sign in, from the connected server's point of view."""

    def __init__(
        self,
        plex_tv: PlexTvClient,
        servers: PlexServers,
        connection: ConnectionSource,
        *,
        facts_ttl: float = SERVER_FACTS_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`servers` gives the client of the connected server (the one browsing uses too)."""
        self._plex_tv = plex_tv
        self._servers = servers
        self._connection = connection
        self._facts_ttl = facts_ttl
        self._clock = clock
        self._facts: _ServerFacts | None = None
        self._facts_lock = asyncio.Lock()

    async def check(self, account: PlexAccount) -> AccessDecision:
        """Raises `UpstreamUnavailable` / `UpstreamTimeout` when the Plex server or plex.tv
        cannot tell (misconfigured when the server URL or the owner token is wrong)."""
        connection = await self._connection()
        if connection is None:
            return AccessDecision.NO_SERVER
        facts = await self._server_facts(connection)
        if account.id == facts.owner_id:
            decision = AccessDecision.OWNER
        else:
            friends = await self._plex_tv.get_shared_users(connection.owner_token)
            shared = any(
                friend.id == account.id and facts.machine_identifier in friend.server_machine_ids
                for friend in friends
            )
            decision = AccessDecision.SHARED_USER if shared else AccessDecision.NO_ACCESS
        log.info("plex_access.checked", plex_account_id=account.id, decision=decision.value)
        return decision

    def forget(self) -> None:
        """Read the server's identity and owner again on the next check (after a reconnect)."""
        self._facts = None

    async def _server_facts(self, connection: PlexServerConnection) -> _ServerFacts:
        async with self._facts_lock:
            facts = self._facts
            if (
                facts is not None
                and facts.connection == connection
                and self._clock() - facts.read_at < self._facts_ttl
            ):
                return facts
            machine_identifier = await self._machine_identifier(connection.url)
            owner = await self._owner(connection.owner_token)
            self._facts = _ServerFacts(connection, machine_identifier, owner.id, self._clock())
            return self._facts

    async def _machine_identifier(self, url: str) -> str:
        try:
            identity = await self._servers.client(url).identity()
        except (PlexUnexpectedAnswer, PlexUnreadableAnswer, PlexRejected) as exc:
            log.warning("plex_access.not_a_plex_server", answer=type(exc).__name__)
            raise NotAPlexServer from None
        return identity.machine_identifier

    async def _owner(self, owner_token: str) -> PlexAccount:
        try:
            return await self._plex_tv.get_account(owner_token)
        except PlexTvTokenRefused:
            raise UpstreamUnavailable(
                PLEX_TV,
                "plex.tv no longer accepts the Plex server owner's token; "
                "an administrator needs to reconnect Plex.",
                misconfigured=True,
            ) from None
