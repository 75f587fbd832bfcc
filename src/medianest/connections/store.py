"""Where the stored connections are read, and the Plex one kept at hand in each process.

Every sign-in check and Plex call asks for the Plex connection, so each process keeps it for a
short while after reading it. Saving a connection tells every process to read it again at once
(`Connections.changed`, over the bus); the time limit is only for a message the bus lost.

With no row yet, `MEDIANEST_PLEX_URL` / `MEDIANEST_PLEX_TOKEN` are the connection, and
`seed_from_settings()` writes them as the first stored configuration. Once a row exists, the
settings are no longer read: what the administrator saved wins.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.plex_access import PlexServerConnection
from medianest.config import Settings
from medianest.connections.models import PLEX, ServiceConnection
from medianest.core.db import Database
from medianest.core.security import DecryptionError, EncryptionService

log = structlog.get_logger(__name__)

CACHE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class _Held:
    connection: PlexServerConnection | None
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
        self._held: _Held | None = None
        self._generation = 0
        self._lock = asyncio.Lock()

    async def plex(self) -> PlexServerConnection | None:
        """The Plex server to use, or None while none is connected (a `ConnectionSource`)."""
        held = self._held
        if held is not None and self._fresh(held):
            return held.connection
        async with self._lock:
            held = self._held
            if held is not None and self._fresh(held):
                return held.connection
            generation = self._generation
            async with self._db.unit_of_work() as session:
                row = await self.row(session, PLEX)
            connection = self._connection(row)
            # A save while this read was under way makes what it read stale: not kept.
            if generation == self._generation:
                self._held = _Held(connection, self._clock(), generation)
            return connection

    def forget(self) -> None:
        """Read the connection again on next use (it was just saved, here or elsewhere)."""
        self._generation += 1
        self._held = None

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
        try:
            async with self._db.unit_of_work() as session:
                if await self.row(session, PLEX) is not None:
                    return False
                session.add(
                    ServiceConnection(
                        name=PLEX,
                        url=seed.url,
                        token_encrypted=self._encryption.encrypt(seed.owner_token),
                        enabled=True,
                        options={},
                        updated_by=None,
                    )
                )
        except IntegrityError:
            # Another process starting at the same moment wrote it first.
            return False
        self.forget()
        log.info("connections.seeded_from_settings", name=PLEX)
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
