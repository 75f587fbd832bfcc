"""Connecting MediaNest to Overseerr (or Seerr): test an address and API key, save them, tell
everyone; and the secret Overseerr's webhook agent sends back.

The stored row (`service_connections`, name `overseerr`) holds the address, the API key sealed,
and in its options what the last test learnt (version, which of the two it is), whether Plex
users Overseerr does not know yet may be imported into it, and the webhook secret, sealed too:
MediaNest makes it, shows it to administrators to paste into Overseerr, and compares every
delivery's `Authorization` header with it.

With no row, `MEDIANEST_OVERSEERR_URL` / `MEDIANEST_OVERSEERR_API_KEY` are seeded as the first
one at start; once an administrator saved one, the settings are not read again.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.sessions import Principal
from medianest.config import Settings
from medianest.connections.models import ServiceConnection
from medianest.connections.probe import BadUrl, ConnectionTestFailed, check_url
from medianest.connections.service import Connections
from medianest.core.audit import Actor, AuditService
from medianest.core.db import Database, utc_now
from medianest.core.errors import NotConnected, ValidationFailed
from medianest.core.security import DecryptionError, EncryptionService, random_token
from medianest.integrations.overseerr.client import OverseerrClient
from medianest.integrations.overseerr.errors import OVERSEERR
from medianest.integrations.overseerr.upstream import OverseerrClients
from medianest.requests.probe import (
    OVERSEERR_URL,
    Flavour,
    OverseerrProbe,
    OverseerrProbeResult,
    check_api_key,
)

log = structlog.get_logger(__name__)

NAME = "overseerr"
# The administrators' page where Overseerr is connected.
CONNECT_PATH = "/admin/requests/service"
WEBHOOK_PATH = "/api/v1/webhooks/overseerr"
# Makes a pasted secret recognisable as MediaNest's webhook secret.
_SECRET_PREFIX = "mnw_"  # noqa: S105 (a prefix, not a secret)


class OverseerrNotConnected(NotConnected):
    def __init__(self) -> None:
        super().__init__(
            OVERSEERR,
            "Requests are not set up yet: an administrator needs to connect Overseerr.",
            connect_at=CONNECT_PATH,
        )


class ConnectionFailed(ConnectionTestFailed):
    message = "MediaNest could not connect to this Overseerr."


@dataclass(frozen=True, slots=True)
class OverseerrLink:
    """The connected Overseerr, as the rest of the domain uses it."""

    url: str
    api_key: str
    flavour: Flavour | None
    allow_plex_import: bool
    webhook_secret: str | None


@dataclass(frozen=True, slots=True)
class OverseerrStatus:
    url: str | None
    configured: bool
    api_key_set: bool
    enabled: bool
    flavour: Flavour | None
    version: str | None
    allow_plex_import: bool
    webhook_authorization: str | None
    updated_at: datetime | None


class OverseerrConnectionService:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        connections: Connections,
        clients: OverseerrClients,
        probe: OverseerrProbe,
        encryption: EncryptionService,
        audit: AuditService,
    ) -> None:
        self._settings = settings
        self._db = db
        self._connections = connections
        self._store = connections.store
        self._clients = clients
        self._probe = probe
        self._encryption = encryption
        self._audit = audit

    # Using it

    async def link(self) -> OverseerrLink | None:
        """The connected Overseerr, or None while none is; held a short while per process."""
        return await self._store.held(NAME, self._link)

    async def client(self) -> OverseerrClient:
        """The client for the connected Overseerr. Raises `OverseerrNotConnected`."""
        link = await self.link()
        if link is None:
            raise OverseerrNotConnected()
        return self._clients.client(link.url, link.api_key)

    async def webhook_authorized(self, authorization: str | None) -> bool:
        """Whether a webhook delivery's `Authorization` header is the secret MediaNest made
        (compared in constant time); False while there is none."""
        link = await self.link()
        if link is None or link.webhook_secret is None or authorization is None:
            return False
        expected = _authorization(link.webhook_secret).encode()
        return hmac.compare_digest(authorization.strip().encode(), expected)

    # Reading

    async def status(self, session: AsyncSession) -> OverseerrStatus:
        row = await self._store.row(session, NAME)
        if row is None:
            seed = self._settings_seed()
            return OverseerrStatus(
                url=seed[0] if seed else None,
                configured=False,
                api_key_set=seed is not None,
                enabled=True,
                flavour=None,
                version=None,
                allow_plex_import=True,
                webhook_authorization=None,
                updated_at=None,
            )
        link = self._link(row)
        options = row.options or {}
        secret = link.webhook_secret if link else None
        return OverseerrStatus(
            url=row.url,
            configured=link is not None,
            api_key_set=row.token_encrypted is not None,
            enabled=row.enabled,
            flavour=_flavour(options),
            version=_text(options.get("version")),
            allow_plex_import=_allow_import(options),
            webhook_authorization=_authorization(secret) if secret else None,
            updated_at=row.updated_at,
        )

    # Testing and saving

    async def test(
        self, session: AsyncSession, *, url: str | None, api_key: str | None
    ) -> OverseerrProbeResult:
        """Whether this address and key would work, and if not, why; what is not given is taken
        from the stored connection (or the settings' one)."""
        row = await self._store.row(session, NAME)
        stored_url, stored_key = (row.url, self._store.token_of(row)) if row else (None, None)
        if row is None and (seed := self._settings_seed()) is not None:
            stored_url, stored_key = seed
        url_to_test = url or stored_url
        key_to_test = api_key or stored_key
        if not url_to_test:
            raise ValidationFailed.on("url", OVERSEERR_URL.missing)
        if not key_to_test:
            raise ValidationFailed.on("apiKey", "Enter Overseerr's API key (Settings → General).")
        return await self._probe.test(url_to_test, key_to_test)

    async def connect(
        self,
        admin: Principal,
        *,
        url: str,
        api_key: str | None,
        allow_plex_import: bool | None,
        actor: Actor,
    ) -> OverseerrStatus:
        """Test, then save a working connection (an empty key keeps the stored one). Raises
        `ValidationFailed` for an address or key that cannot be Overseerr's, `ConnectionFailed`
        with the reason when the test fails; nothing is saved then."""
        try:
            address = check_url(url, OVERSEERR_URL)
        except BadUrl as exc:
            raise ValidationFailed.on("url", str(exc)) from None
        async with self._db.unit_of_work() as session:
            row = await self._store.row(session, NAME)
            chosen = api_key or (self._store.token_of(row) if row is not None else None)
        if not chosen:
            raise ValidationFailed.on("apiKey", "Enter Overseerr's API key (Settings → General).")
        try:
            chosen = check_api_key(chosen)
        except ValueError as exc:
            raise ValidationFailed.on("apiKey", str(exc)) from None
        result = await self._probe.test(address, chosen)
        if not result.ok:
            log.info("requests.overseerr_rejected", reason=result.reason)
            raise ConnectionFailed.of(result)
        async with self._db.unit_of_work() as session:
            row = await self._store.row(session, NAME)
            options = dict(row.options or {}) if row is not None else {}
            options.update(version=result.version, flavour=result.flavour)
            if allow_plex_import is not None:
                options["allowPlexImport"] = allow_plex_import
            if not options.get("webhookSecret") or self._open(options["webhookSecret"]) is None:
                options["webhookSecret"] = self._encryption.encrypt(_new_secret())
            await self._store.save(
                session, NAME, url=address, secret=chosen, options=options, by=admin.id
            )
            await self._audit.record(
                session,
                "admin.overseerr_connected",
                actor=actor,
                target_type="service",
                target_id=NAME,
                url=address,
                flavour=result.flavour,
                version=result.version,
            )
            await session.flush()
            status = await self.status(session)
        log.info("requests.overseerr_connected", flavour=result.flavour, version=result.version)
        await self._connections.changed(NAME)
        return status

    async def new_webhook_secret(self, admin: Principal, *, actor: Actor) -> OverseerrStatus:
        """Replace the webhook secret: deliveries with the old one are refused from now on.
        Raises `OverseerrNotConnected` while nothing is stored."""
        async with self._db.unit_of_work() as session:
            row = await self._store.row(session, NAME)
            if row is None:
                raise OverseerrNotConnected()
            row.options = {
                **(row.options or {}),
                "webhookSecret": self._encryption.encrypt(_new_secret()),
            }
            row.updated_at = utc_now()
            row.updated_by = admin.id
            await self._audit.record(
                session,
                "admin.overseerr_webhook_secret_replaced",
                actor=actor,
                target_type="service",
                target_id=NAME,
            )
            await session.flush()
            status = await self.status(session)
        await self._connections.changed(NAME)
        return status

    async def seed_from_settings(self) -> bool:
        """Store the settings' Overseerr as the first connection, with a webhook secret; True
        when written. It is not tested: Overseerr may well start after MediaNest."""
        seed = self._settings_seed()
        if seed is None:
            return False
        url, api_key = seed
        options = {"webhookSecret": self._encryption.encrypt(_new_secret())}
        return await self._store.seed(NAME, url=url, secret=api_key, options=options)

    # Internals

    def _link(self, row: ServiceConnection | None) -> OverseerrLink | None:
        if row is None or not row.enabled:
            return None
        api_key = self._store.token_of(row)
        if not api_key:
            return None
        options = row.options or {}
        sealed = options.get("webhookSecret")
        return OverseerrLink(
            url=row.url,
            api_key=api_key,
            flavour=_flavour(options),
            allow_plex_import=_allow_import(options),
            webhook_secret=self._open(sealed) if isinstance(sealed, str) else None,
        )

    def _open(self, sealed: object) -> str | None:
        if not isinstance(sealed, str):
            return None
        try:
            return self._encryption.decrypt(sealed)
        except DecryptionError:
            log.warning("requests.webhook_secret_unreadable")
            return None

    def _settings_seed(self) -> tuple[str, str] | None:
        settings = self._settings
        if settings.overseerr_url is None or settings.overseerr_api_key is None:
            return None
        key = settings.overseerr_api_key.get_secret_value().strip()
        try:
            return check_url(settings.overseerr_url, OVERSEERR_URL), key
        except BadUrl:
            log.warning("requests.overseerr_url_setting_invalid")
            return None


def _new_secret() -> str:
    return _SECRET_PREFIX + random_token(32)


def _authorization(secret: str) -> str:
    """The `Authorization` value Overseerr's webhook agent is given to send."""
    return f"Bearer {secret}"


def _flavour(options: dict[str, Any]) -> Flavour | None:
    found = options.get("flavour")
    return found if found in ("overseerr", "seerr") else None


def _allow_import(options: dict[str, Any]) -> bool:
    return options.get("allowPlexImport", True) is not False


def _text(value: object) -> str | None:
    return str(value) if value else None
