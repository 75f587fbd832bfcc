"""The Plex account tokens kept on users' accounts, sealed: auth owns them, and other domains
(the library, the Plex connection) keep, read and check them only through `PlexTokens`."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.models import User, UserStatus
from medianest.core.db import Database
from medianest.core.security import DecryptionError, EncryptionService


class PlexTokenUnreadable(Exception):
    """The sealed token cannot be opened (sealed with a key no longer configured)."""


class PlexTokens:
    def __init__(self, db: Database, encryption: EncryptionService) -> None:
        self._db = db
        self._encryption = encryption

    def seal(self, user: User, token: str) -> None:
        """Keep `token` on `user` (a row of the caller's unit of work)."""
        user.plex_token_encrypted = self._encryption.encrypt(token)

    async def link(
        self, session: AsyncSession, user_id: uuid.UUID, token: str, *, plex_id: int
    ) -> bool:
        """Keep `token` on the user's account, in the caller's unit of work. False when the user
        is gone, or their account came from another Plex account than `plex_id`."""
        user = await session.get(User, user_id)
        if user is None or (user.plex_id is not None and user.plex_id != plex_id):
            return False
        self.seal(user, token)
        return True

    async def read(
        self, user_id: uuid.UUID, *, active_only: bool, session: AsyncSession | None = None
    ) -> str | None:
        """The user's Plex token; None when they have none, or (`active_only`) are not active.
        Read in `session` when given (the caller's unit of work), else in one of its own.

        Raises `PlexTokenUnreadable` when it cannot be opened."""
        query = select(User.plex_token_encrypted, User.status).where(User.id == user_id)
        if session is None:
            async with self._db.unit_of_work() as own:
                row = (await own.execute(query)).one_or_none()
        else:
            row = (await session.execute(query)).one_or_none()
        if row is None or row.plex_token_encrypted is None:
            return None
        if active_only and row.status != UserStatus.ACTIVE:
            return None
        try:
            return self._encryption.decrypt(row.plex_token_encrypted)
        except DecryptionError:
            raise PlexTokenUnreadable from None
