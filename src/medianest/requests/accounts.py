"""Who a MediaNest user is in Overseerr, so that each request is made as them (`X-API-User`).

Users are matched by Plex account id: Overseerr's user list shows each user's `plexId` to the
API key. A Plex user Overseerr does not know yet is imported from the owner's Plex friends
(`/user/import-from-plex`) when the administrator allows it, which is the default. The local
administrator acts as Overseerr's owner (user 1) unless their own Plex account is mapped.

The mapping is kept (`overseerr_accounts`) and looked up again when Overseerr no longer knows the
stored id (a user deleted and imported again gets a new one), or after a day, so permission
changes made in Overseerr reach MediaNest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.directory import UserDirectory
from medianest.auth.sessions import Principal
from medianest.core.db import utc_now
from medianest.core.errors import Forbidden
from medianest.integrations.overseerr.client import OverseerrClient
from medianest.integrations.overseerr.schemas import User as OverseerrUser
from medianest.requests.models import OverseerrAccount

log = structlog.get_logger(__name__)

RECHECK_AFTER = timedelta(days=1)
_PAGE = 100

# Overseerr's permission bits that matter here (reference §3); ADMIN implies all.
ADMIN = 2
REQUEST_4K = 1024
REQUEST_4K_MOVIE = 2048
REQUEST_4K_TV = 4096


class NoOverseerrAccount(Forbidden):
    message = (
        "Your account is not set up for requests yet. Ask the person who runs this server "
        "to add you in Overseerr."
    )


@dataclass(frozen=True, slots=True)
class Requester:
    overseerr_id: int
    permissions: int

    def may_request_4k(self, media_type: str) -> bool:
        bits = self.permissions
        per_type = REQUEST_4K_MOVIE if media_type == "movie" else REQUEST_4K_TV
        return bool(bits & (ADMIN | REQUEST_4K | per_type))


class OverseerrAccounts:
    def __init__(self, users: UserDirectory) -> None:
        self._users = users

    async def requester(
        self,
        session: AsyncSession,
        client: OverseerrClient,
        user: Principal,
        *,
        allow_import: bool,
        fresh: bool = False,
    ) -> Requester:
        """Who `user` is in Overseerr, found (or imported) and kept. With `fresh`, the kept id
        is not trusted (Overseerr just refused it). Raises `NoOverseerrAccount`."""
        kept = await session.get(OverseerrAccount, user.id)
        if kept is not None and not fresh and utc_now() - kept.checked_at < RECHECK_AFTER:
            return Requester(kept.overseerr_id, kept.permissions)
        plex_id = await self._users.plex_id(session, user.id)
        found = await self._find(client, plex_id) if plex_id is not None else None
        if found is None and plex_id is not None and allow_import:
            found = await self._import(client, plex_id)
        if found is None and user.is_admin:
            found = await self._owner(client)
        if found is None:
            log.info(
                "requests.no_overseerr_account", user_id=str(user.id), plex=plex_id is not None
            )
            raise NoOverseerrAccount()
        await self._keep(session, user.id, found, kept)
        return Requester(found.id, found.permissions)

    async def _find(self, client: OverseerrClient, plex_id: int) -> OverseerrUser | None:
        skip = 0
        while True:
            page = await client.users(take=_PAGE, skip=skip)
            for found in page.results:
                if found.plex_id == plex_id:
                    return found
            skip += len(page.results)
            if not page.results or skip >= page.page_info.results:
                return None

    async def _import(self, client: OverseerrClient, plex_id: int) -> OverseerrUser | None:
        made = await client.import_from_plex([plex_id])
        if not made:
            # Not one of the owner's Plex friends (or imported meanwhile): look once more.
            return await self._find(client, plex_id)
        log.info("requests.overseerr_user_imported", overseerr_id=made[0].id)
        # The import's answer leaves out the Plex id and permissions: read the user whole.
        return await self._find(client, plex_id) or made[0]

    async def _owner(self, client: OverseerrClient) -> OverseerrUser:
        return await client.me()

    async def _keep(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        found: OverseerrUser,
        kept: OverseerrAccount | None,
    ) -> None:
        try:
            async with session.begin_nested():
                if kept is None:
                    kept = OverseerrAccount(user_id=user_id)
                    session.add(kept)
                kept.overseerr_id = found.id
                kept.permissions = found.permissions
                kept.checked_at = utc_now()
        except IntegrityError:
            # Another request of the same user kept the same answer a moment before.
            log.debug("requests.overseerr_account_kept_meanwhile", user_id=str(user_id))
