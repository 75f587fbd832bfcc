"""Who calls the Plex server with which token.

Administrators (the server owner signs in as one) call with the owner's token and see every
library. Anyone else calls with their own token for this server: the `accessToken` plex.tv lists
for it among the user's resources, found with the user's own Plex sign-in. Plex then shows them
exactly the libraries the owner shares with them; MediaNest never browses for them with the
owner's token. An account without a Plex sign-in (a local one) that is not an administrator has
no token to browse with.

Finding a user's token costs a database read, a decryption and a plex.tv call, so it is kept:

- in this process, per user, until unused for `idle_seconds` (evicted by the cleanup timer) or
  older than `max_age`;
- in the cache service for `max_age`, sealed with the encryption service, so other processes
  (and this one after an eviction) skip plex.tv. It is never put in the cache in plain text:
  with Redis the cache is a shared server, not a place for secrets.

One `PlexServerClient` (one connection pool, from `PlexServers`) per server address serves every
user, and sign-in too.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from medianest.auth.plex_access import ConnectionSource
from medianest.auth.plex_tokens import PlexTokens, PlexTokenUnreadable
from medianest.auth.sessions import Principal
from medianest.core.cache import CacheService
from medianest.core.errors import Forbidden, NotConnected
from medianest.core.poller import Poller
from medianest.core.security import DecryptionError, EncryptionService
from medianest.integrations.plex.errors import PLEX_SERVER, PlexTvTokenRefused, UserTokenRefused
from medianest.integrations.plex.server import PlexServerClient
from medianest.integrations.plex.servers import PlexServers
from medianest.integrations.plex.transport import PlexUserToken
from medianest.integrations.plex.tv import PlexTvClient

log = structlog.get_logger(__name__)

OWNER_SCOPE = "owner"
IDLE_SECONDS = 900.0
MAX_AGE = 3600.0
CLEANUP_INTERVAL = 60.0


class PlexSignInRequired(Forbidden):
    message = "Sign in with Plex to browse the library."


class NotSharedWithYou(Forbidden):
    message = (
        "Your Plex account has no access to this Plex server. "
        "Ask the server owner to share a library with you."
    )


# The administrators' page where the Plex server is connected.
CONNECT_PATH = "/admin/plex"


class PlexNotConnected(NotConnected):
    """No Plex server is connected to browse or sync: a 503 naming Plex, unlike sign-in's 403
    (`auth.errors.NoServerForSignIn`)."""

    def __init__(self) -> None:
        super().__init__(
            PLEX_SERVER,
            "MediaNest is not connected to a Plex server yet; "
            "an administrator needs to connect one.",
            connect_at=CONNECT_PATH,
        )


@dataclass(frozen=True, slots=True)
class PlexServer:
    """The connected server: its address, its adapter and its owner's token."""

    url: str
    client: PlexServerClient
    owner_token: str


@dataclass(frozen=True, slots=True)
class PlexCaller:
    """The adapter to call and the token to call it with for one user; `scope` names whose
    answers these are (`owner`, or `u:{user id}`), for cache keys."""

    client: PlexServerClient
    token: str
    scope: str


def scope_of(principal: Principal | None) -> str:
    """Whose view of the library `principal` gets (None: MediaNest itself, the owner's view).

    Raises `PlexSignInRequired` for a local account that is not an administrator.
    """
    if principal is None or principal.is_admin:
        return OWNER_SCOPE
    if not principal.plex_linked:
        raise PlexSignInRequired
    return f"u:{principal.id}"


def token_cache_key(user_id: uuid.UUID) -> str:
    return f"plex:token:{user_id}"


class PlexCallers:
    def __init__(
        self,
        *,
        plex_tokens: PlexTokens,
        cache: CacheService,
        encryption: EncryptionService,
        plex_tv: PlexTvClient,
        connection: ConnectionSource,
        servers: PlexServers,
        idle_seconds: float = IDLE_SECONDS,
        max_age: float = MAX_AGE,
        cleanup_interval: float = CLEANUP_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._plex_tokens = plex_tokens
        self._cache = cache
        self._encryption = encryption
        self._plex_tv = plex_tv
        self._connection = connection
        self._servers = servers
        self._idle_seconds = idle_seconds
        self._max_age = max_age
        self._clock = clock
        self._machine_ids: dict[str, str] = {}
        self._pool: dict[uuid.UUID, _Held] = {}
        self._cleanup = Poller(
            "plex-token-cleanup",
            self._evict_idle_now,
            interval=cleanup_interval,
            first_delay=cleanup_interval,
        )

    @property
    def pooled(self) -> int:
        """How many users' tokens this process holds."""
        return len(self._pool)

    # Lifecycle

    def start_cleanup_timer(self) -> None:
        """Evict idle users' tokens every `cleanup_interval` seconds until `aclose()`."""
        self._cleanup.start()

    async def aclose(self) -> None:
        await self._cleanup.stop()

    def evict_idle(self) -> int:
        """Drop the tokens not used for `idle_seconds`, or held longer than `max_age`."""
        now = self._clock()
        stale = [
            user_id
            for user_id, held in self._pool.items()
            if now - held.last_used >= self._idle_seconds or now - held.resolved_at >= self._max_age
        ]
        for user_id in stale:
            del self._pool[user_id]
        return len(stale)

    async def forget_user(self, user_id: uuid.UUID) -> None:
        """Look the user's token up again next time (after Plex refused it)."""
        self._pool.pop(user_id, None)
        await self._cache.delete(token_cache_key(user_id))

    def forget_all(self) -> None:
        """Forget every user's token and the server's identity (the connection changed); the
        sealed tokens in the cache name the server they are for and are not used for another."""
        self._pool.clear()
        self._machine_ids.clear()

    async def _evict_idle_now(self) -> int:
        evicted = self.evict_idle()
        if evicted:
            log.debug("plex.user_tokens_evicted", count=evicted, held=len(self._pool))
        return evicted

    # Callers

    async def server(self) -> PlexServer:
        """Raises `PlexNotConnected` while no Plex server is connected."""
        connection = await self._connection()
        if connection is None:
            raise PlexNotConnected
        url = connection.url.rstrip("/")
        return PlexServer(url, self._servers.client(url), connection.owner_token)

    async def machine_identifier(self, server: PlexServer) -> str:
        found = self._machine_ids.get(server.url)
        if found is None:
            found = (await server.client.identity()).machine_identifier
            self._machine_ids[server.url] = found
        return found

    async def for_user(self, principal: Principal | None) -> PlexCaller:
        """Raises `PlexSignInRequired` (a local account that is not an administrator, or no Plex
        sign-in on record), `UserTokenRefused` (plex.tv no longer accepts the user's sign-in),
        `NotSharedWithYou` (the account cannot use this server) and `PlexNotConnected`."""
        scope = scope_of(principal)
        server = await self.server()
        if principal is None or scope == OWNER_SCOPE:
            return PlexCaller(server.client, server.owner_token, OWNER_SCOPE)
        self.start_cleanup_timer()
        machine_identifier = await self.machine_identifier(server)
        token = await self._user_token(principal.id, machine_identifier)
        return PlexCaller(server.client, token, scope)

    # A user's own token

    async def _user_token(self, user_id: uuid.UUID, machine_identifier: str) -> PlexUserToken:
        now = self._clock()
        held = self._pool.get(user_id)
        if (
            held is not None
            and held.machine_identifier == machine_identifier
            and now - held.resolved_at < self._max_age
        ):
            held.last_used = now
            return held.token
        token = await self._sealed_token(user_id, machine_identifier)
        self._pool[user_id] = _Held(token, machine_identifier, now, now)
        return token

    async def _sealed_token(self, user_id: uuid.UUID, machine_identifier: str) -> PlexUserToken:
        async def resolve() -> dict[str, str]:
            token = await self._resolve(user_id, machine_identifier)
            return {"server": machine_identifier, "sealed": self._encryption.encrypt(token)}

        key = token_cache_key(user_id)
        for _ in range(2):
            # Concurrent first calls of one user (a page of posters) share one plex.tv look-up.
            found = await self._cache.get_or_set(key, resolve, self._max_age)
            if isinstance(found, dict) and found.get("server") == machine_identifier:
                try:
                    return PlexUserToken(self._encryption.decrypt(str(found.get("sealed"))))
                except DecryptionError:
                    log.warning("plex.user_token_unreadable", user_id=str(user_id))
            # Sealed for another server (the connection changed) or with a retired key.
            await self._cache.delete(key)
        raise UserTokenRefused

    async def _resolve(self, user_id: uuid.UUID, machine_identifier: str) -> str:
        try:
            plex_token = await self._plex_tokens.read(user_id, active_only=True)
        except PlexTokenUnreadable:
            log.warning("plex.account_token_unreadable", user_id=str(user_id))
            raise UserTokenRefused from None
        if plex_token is None:
            raise PlexSignInRequired
        try:
            resources = await self._plex_tv.get_resources(plex_token)
        except PlexTvTokenRefused:
            log.info("plex.account_token_refused", user_id=str(user_id))
            raise UserTokenRefused from None
        for resource in resources:
            if resource.client_identifier == machine_identifier and resource.access_token:
                log.info("plex.user_token_resolved", user_id=str(user_id))
                return resource.access_token
        log.info("plex.server_not_shared", user_id=str(user_id))
        raise NotSharedWithYou


@dataclass(slots=True)
class _Held:
    token: PlexUserToken
    machine_identifier: str
    resolved_at: float
    last_used: float
