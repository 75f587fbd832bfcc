"""Connecting MediaNest to the Plex server: test an address and token, save them, tell everyone.

Saving commits in a transaction of its own before anything is told: another process, or a sync
started because of it, must read the new connection, not the old one. Then `connections` tells
this process's listeners (which drop what they hold of the old server, and start a sync) and
every other process (which drops what it holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.plex_tokens import PlexTokenUnreadable
from medianest.auth.service import AuthService
from medianest.auth.sessions import Principal
from medianest.connections.models import PLEX
from medianest.connections.probe import BadUrl, ConnectionTestFailed, check_url
from medianest.connections.service import Connections
from medianest.core.audit import Actor, AuditService
from medianest.core.db import Database
from medianest.core.errors import Conflict, ValidationFailed
from medianest.integrations.plex.errors import PlexTvTokenRefused
from medianest.integrations.plex.tv import PlexAccount, PlexResource, PlexTvClient
from medianest.plex.probe import PLEX_URL, PlexProbe, PlexProbeResult

log = structlog.get_logger(__name__)


class ConnectionFailed(ConnectionTestFailed):
    message = "MediaNest could not connect to this Plex server."


class PlexAccountNotLinked(Conflict):
    message = (
        "Link your Plex account first (Link Plex account), or type the server's address "
        "and token instead."
    )


class PlexAccountRelinkNeeded(Conflict):
    message = "plex.tv no longer accepts your linked Plex account. Link it again."


class OtherPlexAccount(Conflict):
    message = (
        "Your MediaNest account belongs to another Plex account. Sign in to Plex as that "
        "account to link it."
    )


@dataclass(frozen=True, slots=True)
class PlexServerFacts:
    name: str
    version: str | None
    machine_identifier: str


@dataclass(frozen=True, slots=True)
class PlexStatus:
    url: str | None
    configured: bool
    token_set: bool
    enabled: bool
    account_linked: bool
    updated_at: datetime | None
    server: PlexServerFacts | None


class PlexConnectionService:
    def __init__(
        self,
        *,
        db: Database,
        connections: Connections,
        probe: PlexProbe,
        audit: AuditService,
        plex_tv: PlexTvClient,
        auth: AuthService,
    ) -> None:
        self._db = db
        self._connections = connections
        self._store = connections.store
        self._probe = probe
        self._audit = audit
        self._plex_tv = plex_tv
        self._auth = auth
        self._plex_tokens = auth.plex_tokens

    # Reading

    async def plex_status(self, session: AsyncSession, admin: Principal) -> PlexStatus:
        row = await self._store.row(session, PLEX)
        linked = await self._admin_token(session, admin) is not None
        if row is None:
            seed = self._store.settings_connection()
            return PlexStatus(
                url=seed.url if seed else None,
                configured=seed is not None,
                token_set=seed is not None,
                enabled=True,
                account_linked=linked,
                updated_at=None,
                server=None,
            )
        return PlexStatus(
            url=row.url,
            configured=row.enabled and row.token_encrypted is not None,
            token_set=row.token_encrypted is not None,
            enabled=row.enabled,
            account_linked=linked,
            updated_at=row.updated_at,
            server=_facts(row.options),
        )

    async def plex_servers(self, session: AsyncSession, admin: Principal) -> list[PlexResource]:
        """The Plex Media Servers the administrator's linked Plex account reaches, owned first.

        Raises `PlexAccountNotLinked` and `PlexAccountRelinkNeeded` (409)."""
        token = await self._admin_token(session, admin)
        if token is None:
            raise PlexAccountNotLinked
        try:
            servers = await self._plex_tv.get_resources(token)
        except PlexTvTokenRefused:
            raise PlexAccountRelinkNeeded from None
        return sorted(servers, key=lambda s: (not s.owned, s.name.casefold()))

    # Testing and saving

    async def test_plex(
        self, session: AsyncSession, admin: Principal, *, url: str | None, token: str | None
    ) -> PlexProbeResult:
        """Whether this address and token would work, and if not, why. With neither given,
        the stored connection is tested; a missing token is found as saving would find it."""
        row = await self._store.row(session, PLEX)
        stored_url = row.url if row is not None else None
        stored_token = self._store.token_of(row) if row is not None else None
        if row is None and (seed := self._store.settings_connection()) is not None:
            stored_url, stored_token = seed.url, seed.owner_token
        if not url and not token:
            url_to_test, token_to_test = stored_url, stored_token
        else:
            url_to_test = url or stored_url
            token_to_test = token or await self._admin_token(session, admin) or stored_token
        if not url_to_test:
            raise ValidationFailed.on("url", PLEX_URL.missing)
        if not token_to_test:
            raise ValidationFailed.on("token", _NOTHING_TO_SIGN_IN_WITH)
        return await self._probe.test(url_to_test, token_to_test)

    async def connect_plex(
        self, admin: Principal, *, url: str, token: str | None, actor: Actor
    ) -> PlexStatus:
        """Test, then save a working connection. Raises `ValidationFailed` for an address that
        cannot be a Plex server's or no token to use, and `ConnectionFailed` with the reason
        when the test fails; nothing is saved then."""
        try:
            address = check_url(url, PLEX_URL)
        except BadUrl as exc:
            raise ValidationFailed.on("url", str(exc)) from None
        async with self._db.unit_of_work() as session:
            row = await self._store.row(session, PLEX)
            chosen = token or await self._admin_token(session, admin)
            if not chosen and row is not None:
                chosen = self._store.token_of(row)
        if not chosen:
            raise ValidationFailed.on("token", _NOTHING_TO_SIGN_IN_WITH)
        result = await self._probe.test(address, chosen)
        if not result.ok:
            log.info("connections.plex_rejected", reason=result.reason)
            raise ConnectionFailed.of(result)
        assert result.machine_identifier is not None
        assert result.name is not None
        options = {
            "name": result.name,
            "version": result.version,
            "machineIdentifier": result.machine_identifier,
        }
        async with self._db.unit_of_work() as session:
            row = await self._store.save(
                session, PLEX, url=address, secret=chosen, options=options, by=admin.id
            )
            await self._audit.record(
                session,
                "admin.plex_connected",
                actor=actor,
                target_type="service",
                target_id=PLEX,
                url=address,
                server=result.name,
                machine_identifier=result.machine_identifier,
            )
            await session.flush()
            status = PlexStatus(
                url=address,
                configured=True,
                token_set=True,
                enabled=True,
                account_linked=await self._admin_token(session, admin) is not None,
                updated_at=row.updated_at,
                server=_facts(options),
            )
        log.info("connections.plex_connected", machine_identifier=result.machine_identifier)
        await self._connections.changed(PLEX)
        return status

    async def link_plex_account(
        self, admin: Principal, *, pin_id: int, browser_secret: str | None, actor: Actor
    ) -> PlexAccount:
        """Keep the Plex token of a PIN this browser started and the administrator approved,
        sealed on their account, for the server picker and for connecting without typing a
        token. Who they are in MediaNest does not change.

        Raises what finishing a PIN raises (`UnknownPin`, `PinNotAuthorized`) and
        `OtherPlexAccount` when their account came from another Plex account."""
        token = await self._auth.approved_plex_token(pin_id, browser_secret)
        account = await self._plex_tv.get_account(token)
        async with self._db.unit_of_work() as session:
            if not await self._plex_tokens.link(session, admin.id, token, plex_id=account.id):
                raise OtherPlexAccount
            await self._audit.record(
                session,
                "admin.plex_account_linked",
                actor=actor,
                target_type="user",
                target_id=admin.id,
                plex_username=account.username,
            )
        await self._auth.end_plex_pin(pin_id)
        log.info("connections.plex_account_linked", user_id=str(admin.id))
        return account

    # Internals

    async def _admin_token(self, session: AsyncSession, admin: Principal) -> str | None:
        try:
            return await self._plex_tokens.read(admin.id, active_only=False, session=session)
        except PlexTokenUnreadable:
            log.warning("connections.admin_token_unreadable", user_id=str(admin.id))
            return None


_NOTHING_TO_SIGN_IN_WITH = (
    "Enter the Plex server owner's token, or link your Plex account so MediaNest can use it."
)


def _facts(options: dict[str, Any] | None) -> PlexServerFacts | None:
    if not options or not options.get("machineIdentifier") or not options.get("name"):
        return None
    version = options.get("version")
    return PlexServerFacts(
        name=str(options["name"]),
        version=str(version) if version else None,
        machine_identifier=str(options["machineIdentifier"]),
    )
