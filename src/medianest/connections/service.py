"""Connecting MediaNest to the Plex server: test an address and token, save them, tell everyone.

Saving commits in a transaction of its own before anything is told: another process, or a job
started by an on-connected hook, must read the new connection, not the old one. Then, in this
process, the Plex answers and server facts cached for the old server are dropped and the hooks
run; every other process hears it on the bus and drops what it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.models import User
from medianest.auth.plex_access import PlexServerAccess
from medianest.auth.service import AuthService
from medianest.auth.sessions import Principal
from medianest.connections.models import PLEX, ServiceConnection
from medianest.connections.probe import BadUrl, PlexProbe, ProbeResult, check_url
from medianest.connections.store import ConnectionStore
from medianest.core.audit import Actor, AuditService
from medianest.core.bus import Bus
from medianest.core.db import Database, utc_now
from medianest.core.errors import Conflict, ValidationFailed
from medianest.core.security import DecryptionError, EncryptionService
from medianest.integrations.plex.errors import PlexTvTokenRefused
from medianest.integrations.plex.tv import PlexAccount, PlexResource, PlexTvClient
from medianest.plex.service import PlexService

log = structlog.get_logger(__name__)

CHANGED_CHANNEL = "connections.changed"

OnConnected = Callable[[], Awaitable[None]]


class ConnectionFailed(ValidationFailed):
    """The test before saving failed: nothing was saved."""

    code = "CONNECTION_FAILED"
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


class ConnectionService:
    def __init__(
        self,
        *,
        db: Database,
        store: ConnectionStore,
        probe: PlexProbe,
        encryption: EncryptionService,
        audit: AuditService,
        bus: Bus,
        plex_tv: PlexTvClient,
        auth: AuthService,
        plex: PlexService,
        plex_access: PlexServerAccess,
    ) -> None:
        self._db = db
        self._store = store
        self._probe = probe
        self._encryption = encryption
        self._audit = audit
        self._bus = bus
        self._plex_tv = plex_tv
        self._auth = auth
        self._plex = plex
        self._plex_access = plex_access
        self._on_connected: list[OnConnected] = []
        # Names this process on the bus, so it skips what it already did itself.
        self._origin = uuid.uuid4().hex
        self._listener: asyncio.Task[None] | None = None

    # Lifecycle

    async def start(self) -> None:
        """Store the settings' Plex connection if none is stored yet, and start hearing about
        connections saved by other processes (until `aclose()`)."""
        try:
            await self._store.seed_from_settings()
        except Exception:
            log.exception("connections.seed_failed")
        if self._listener is None:
            ready = asyncio.Event()
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(ready), name="connections-listener"
            )
            await ready.wait()

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    def add_on_connected(self, callback: OnConnected) -> None:
        """Run `callback` (in the process that saved it) each time a Plex server is connected,
        after the new connection is committed. A failing callback is logged, not raised."""
        self._on_connected.append(callback)

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
    ) -> ProbeResult:
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
            raise ValidationFailed.on(
                "url", "Enter the Plex server's address, like http://192.168.1.20:32400."
            )
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
            address = check_url(url)
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
            message = result.error or ConnectionFailed.message
            raise ConnectionFailed.on(result.field or "url", message)
        assert result.machine_identifier is not None
        assert result.name is not None
        options = {
            "name": result.name,
            "version": result.version,
            "machineIdentifier": result.machine_identifier,
        }
        async with self._db.unit_of_work() as session:
            row = await self._store.row(session, PLEX)
            if row is None:
                row = ServiceConnection(name=PLEX)
                session.add(row)
            row.url = address
            row.token_encrypted = self._encryption.encrypt(chosen)
            row.enabled = True
            row.options = options
            row.updated_at = utc_now()
            row.updated_by = admin.id
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
        await self._plex_changed()
        await self._bus.publish(CHANGED_CHANNEL, {"name": PLEX, "origin": self._origin})
        for callback in list(self._on_connected):
            try:
                await callback()
            except Exception:
                log.exception("connections.on_connected_failed")
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
            user = await session.get(User, admin.id)
            if user is None:
                raise OtherPlexAccount
            if user.plex_id is not None and user.plex_id != account.id:
                raise OtherPlexAccount
            user.plex_token_encrypted = self._encryption.encrypt(token)
            await self._audit.record(
                session,
                "admin.plex_account_linked",
                actor=actor,
                target_type="user",
                target_id=user.id,
                plex_username=account.username,
            )
        await self._auth.end_plex_pin(pin_id)
        log.info("connections.plex_account_linked", user_id=str(admin.id))
        return account

    # Internals

    async def _admin_token(self, session: AsyncSession, admin: Principal) -> str | None:
        sealed = await session.scalar(select(User.plex_token_encrypted).where(User.id == admin.id))
        if not sealed:
            return None
        try:
            return self._encryption.decrypt(sealed)
        except DecryptionError:
            log.warning("connections.admin_token_unreadable", user_id=str(admin.id))
            return None

    async def _plex_changed(self) -> None:
        """Forget everything this process knows about the previous Plex server."""
        self._store.forget()
        self._plex_access.forget()
        await self._plex.forget_server()

    async def _listen(self, ready: asyncio.Event) -> None:
        try:
            async with self._bus.subscribe(CHANGED_CHANNEL) as inbox:
                ready.set()
                async for _, message in inbox:
                    if message.get("origin") == self._origin or message.get("name") != PLEX:
                        continue
                    try:
                        await self._plex_changed()
                    except Exception:
                        log.exception("connections.forget_failed")
                    log.info("connections.plex_changed_elsewhere")
        finally:
            ready.set()


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
