"""Where the stored connections are read and written, and kept at hand in each process.

Every sign-in check and Plex call asks for the Plex connection, every search of the requests
pages for Overseerr's, so each process keeps what it read of a connection for a short while
(`held`). Saving a connection tells every process to read it again at once
(`Connections.changed`, over the bus); the time limit is only for a message the bus lost.

With no row yet, `MEDIANEST_PLEX_URL` / `MEDIANEST_PLEX_TOKEN` are the connection, and
`seed_from_settings()` writes them as the first stored configuration. Once a row exists, the
settings are no longer read: what the administrator saved wins.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.plex_access import PlexServerConnection
from medianest.config import Settings
from medianest.connections.models import PLEX, ServiceConnection
from medianest.core.db import Database, utc_now
from medianest.core.security import DecryptionError, EncryptionService

log = structlog.get_logger(__name__)

CACHE_SECONDS = 60.0

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Held:
    value: Any
    read_at: float
    generation: int


class ConnectionStore:
    def __init__(
        self,
        db: Database,
        encryption: EncryptionService,
        settings: Settings,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._encryption = encryption
        self._settings = settings
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._held: dict[str, _Held] = {}
        self._generation = 0
        self._lock = asyncio.Lock()

    async def plex(self) -> PlexServerConnection | None:
        """The Plex server to use, or None while none is connected (a `ConnectionSource`)."""
        return await self.held(PLEX, self._connection)

    async def held(self, name: str, read: Callable[[ServiceConnection | None], T]) -> T:
        """What `read` makes of the stored row `name` (None: no row), read again at most every
        `cache_seconds` and after every save. `read` must not do I/O: it runs under a lock."""
        held = self._held.get(name)
        if held is not None and self._fresh(held):
            return held.value  # type: ignore[no-any-return]
        async with self._lock:
            held = self._held.get(name)
            if held is not None and self._fresh(held):
                return held.value  # type: ignore[no-any-return]
            generation = self._generation
            async with self._db.unit_of_work() as session:
                row = await self.row(session, name)
            value = read(row)
            # A save while this read was under way makes what it read stale: not kept.
            if generation == self._generation:
                self._held[name] = _Held(value, self._clock(), generation)
            return value

    def forget(self) -> None:
        """Read every connection again on next use (one was just saved, here or elsewhere)."""
        self._generation += 1
        self._held = {}

    async def row(self, session: AsyncSession, name: str) -> ServiceConnection | None:
        return await session.get(ServiceConnection, name)

    def token_of(self, row: ServiceConnection) -> str | None:
        """The stored token in clear, or None when there is none or it no longer opens."""
        if not row.token_encrypted:
            return None
        try:
            return self._encryption.decrypt(row.token_encrypted)
        except DecryptionError:
            log.warning("connections.token_unreadable", name=row.name)
            return None

    async def save(
        self,
        session: AsyncSession,
        name: str,
        *,
        url: str,
        secret: str,
        options: Mapping[str, Any],
        by: uuid.UUID,
    ) -> ServiceConnection:
        """Write connection `name` in `session`, made if new, enabled, `secret` sealed, `options`
        replacing the stored ones. Only for a connection just tested: the caller commits, then
        calls `Connections.changed(name)`."""
        row = await self.row(session, name)
        if row is None:
            row = ServiceConnection(name=name)
            session.add(row)
        row.url = url
        row.token_encrypted = self._encryption.encrypt(secret)
        row.enabled = True
        row.options = dict(options)
        row.updated_at = utc_now()
        row.updated_by = by
        return row

    def settings_connection(self) -> PlexServerConnection | None:
        """The connection `MEDIANEST_PLEX_URL` and `MEDIANEST_PLEX_TOKEN` describe, if both set."""
        settings = self._settings
        if settings.plex_url is None or settings.plex_token is None:
            return None
        token = settings.plex_token.get_secret_value()
        return PlexServerConnection(settings.plex_url, token) if token else None

    async def seed_from_settings(self) -> bool:
        """Store the settings' Plex connection when none is stored yet; True when written."""
        seed = self.settings_connection()
        if seed is None:
            return False
        return await self.seed(PLEX, url=seed.url, secret=seed.owner_token)

    async def seed(
        self, name: str, *, url: str, secret: str, options: Mapping[str, Any] | None = None
    ) -> bool:
        """Store a first connection `name` from the settings, unless one is stored already
        (what an administrator saved wins); True when written. `secret` is stored sealed."""
        try:
            async with self._db.unit_of_work() as session:
                if await self.row(session, name) is not None:
                    return False
                session.add(
                    ServiceConnection(
                        name=name,
                        url=url,
                        token_encrypted=self._encryption.encrypt(secret),
                        enabled=True,
                        options=dict(options or {}),
                        updated_by=None,
                    )
                )
        except IntegrityError:
            # Another process starting at the same moment wrote it first.
            return False
        self.forget()
        log.info("connections.seeded_from_settings", name=name)
        return True

    def _connection(self, row: ServiceConnection | None) -> PlexServerConnection | None:
        if row is None:
            return self.settings_connection()
        if not row.enabled:
            return None
        token = self.token_of(row)
        return PlexServerConnection(row.url, token) if token else None

    def _fresh(self, held: _Held) -> bool:
        return (
            held.generation == self._generation
            and self._clock() - held.read_at < self._cache_seconds
        )
