"""Connecting MediaNest to Uptime Kuma: its address, the status pages whose monitors the status
page shows, and an optional API key for `/metrics` (monitor addresses for administrators).

The stored row (`service_connections`, name `uptime-kuma`) holds the address, the key sealed
(or none) and, in its options, the status page slugs and what the last test learnt. It is kept
only when a test passes. With no row, `MEDIANEST_UPTIME_KUMA_URL`,
`MEDIANEST_UPTIME_KUMA_STATUS_PAGES` and `MEDIANEST_UPTIME_KUMA_API_KEY` are seeded as the first
one at start; once an administrator saved one, the settings are not read again. Disconnecting
keeps the row, turned off, so the settings do not come back at the next start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.exc import IntegrityError

from medianest.auth.sessions import Principal
from medianest.config import Settings
from medianest.connections.models import ServiceConnection
from medianest.connections.probe import BadUrl, ConnectionTestFailed, check_url
from medianest.connections.service import Connections
from medianest.core.audit import Actor, AuditService
from medianest.core.db import Database, utc_now
from medianest.core.errors import ValidationFailed
from medianest.core.security import EncryptionService
from medianest.integrations.uptime_kuma.checks import check_api_key
from medianest.status.probe import KUMA_URL, KumaProbe, KumaProbeResult, check_status_pages

log = structlog.get_logger(__name__)

NAME = "uptime-kuma"
CONNECT_PATH = "/admin/status"


class KumaConnectionFailed(ConnectionTestFailed):
    message = "MediaNest could not connect to this Uptime Kuma."


class Keep:
    """The stored API key stays as it is (the form left it empty)."""


KEEP = Keep()
ApiKeyChange = str | None | Keep
"""A new key, None to store none, or `KEEP`."""


@dataclass(frozen=True, slots=True)
class KumaLink:
    """The connected Uptime Kuma, as the checks use it."""

    url: str
    status_pages: tuple[str, ...]
    api_key: str | None


@dataclass(frozen=True, slots=True)
class KumaStatus:
    url: str | None
    status_pages: tuple[str, ...]
    configured: bool
    api_key_set: bool
    version: str | None
    updated_at: datetime | None


class KumaConnectionService:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        connections: Connections,
        probe: KumaProbe,
        encryption: EncryptionService,
        audit: AuditService,
    ) -> None:
        self._settings = settings
        self._db = db
        self._connections = connections
        self._store = connections.store
        self._probe = probe
        self._encryption = encryption
        self._audit = audit

    async def link(self) -> KumaLink | None:
        """The connected Uptime Kuma, or None; held a short while per process."""
        return await self._store.held(NAME, self._link)

    async def status(self) -> KumaStatus:
        async with self._db.unit_of_work() as session:
            row = await self._store.row(session, NAME)
        if row is None:
            seed = self._settings_seed()
            return KumaStatus(
                url=seed.url if seed else None,
                status_pages=seed.status_pages if seed else (),
                configured=False,
                api_key_set=seed is not None and seed.api_key is not None,
                version=None,
                updated_at=None,
            )
        options = row.options or {}
        return KumaStatus(
            url=row.url,
            status_pages=_slugs(options),
            configured=self._link(row) is not None,
            api_key_set=row.token_encrypted is not None,
            version=str(options["version"]) if options.get("version") else None,
            updated_at=row.updated_at,
        )

    async def test(
        self, *, url: str | None, status_pages: Sequence[str] | None, api_key: ApiKeyChange
    ) -> KumaProbeResult:
        """Whether this address, pages and key would work, and if not, why; what is not given
        is taken from what is stored (or the settings)."""
        stored = await self._stored()
        url_to_test = url or (stored.url if stored else None)
        if not url_to_test:
            raise ValidationFailed.on("url", KUMA_URL.missing)
        pages = status_pages
        if pages is None:
            pages = stored.status_pages if stored else ()
        return await self._probe.test(url_to_test, pages, self._key(api_key, stored))

    async def connect(
        self,
        admin: Principal,
        *,
        url: str,
        status_pages: Sequence[str],
        api_key: ApiKeyChange,
        actor: Actor,
    ) -> KumaStatus:
        """Test, then save a working connection. Raises `ValidationFailed` for an address,
        slug or key that cannot be Kuma's and `KumaConnectionFailed` with the reason when the
        test fails; nothing is saved then."""
        try:
            address = check_url(url, KUMA_URL)
        except BadUrl as exc:
            raise ValidationFailed.on("url", str(exc)) from None
        slugs = check_status_pages(status_pages)
        key = self._key(api_key, await self._stored())
        result = await self._probe.test(address, slugs, key)
        if not result.ok:
            log.info("status.kuma_rejected", reason=result.reason)
            raise KumaConnectionFailed.of(result)
        async with self._db.unit_of_work() as session:
            row = await self._store.row(session, NAME)
            if row is None:
                row = ServiceConnection(name=NAME)
                session.add(row)
            row.url = address
            row.token_encrypted = self._encryption.encrypt(key) if key is not None else None
            row.enabled = True
            row.options = {"statusPages": list(slugs), "version": result.version}
            row.updated_at = utc_now()
            row.updated_by = admin.id
            await self._audit.record(
                session,
                "admin.uptime_kuma_connected",
                actor=actor,
                target_type="service",
                target_id=NAME,
                url=address,
                status_pages=list(slugs),
                api_key=key is not None,
            )
        log.info("status.kuma_connected", status_pages=len(slugs), api_key=key is not None)
        await self._connections.changed(NAME)
        return await self.status()

    async def disconnect(self, admin: Principal, *, actor: Actor) -> KumaStatus:
        """Stop showing Kuma's monitors; the address and pages stay, to connect again."""
        async with self._db.unit_of_work() as session:
            row = await self._store.row(session, NAME)
            if row is None:
                seed = self._settings_seed()
                row = ServiceConnection(
                    name=NAME,
                    url=seed.url if seed else "",
                    options={"statusPages": list(seed.status_pages) if seed else []},
                )
                session.add(row)
            row.enabled = False
            row.updated_at = utc_now()
            row.updated_by = admin.id
            await self._audit.record(
                session,
                "admin.uptime_kuma_disconnected",
                actor=actor,
                target_type="service",
                target_id=NAME,
            )
        await self._connections.changed(NAME)
        return await self.status()

    async def seed_from_settings(self) -> bool:
        """Store the settings' Uptime Kuma as the first connection; True when written. It is
        not tested: Kuma may well start after MediaNest."""
        seed = self._settings_seed()
        if seed is None:
            return False
        try:
            async with self._db.unit_of_work() as session:
                if await self._store.row(session, NAME) is not None:
                    return False
                session.add(
                    ServiceConnection(
                        name=NAME,
                        url=seed.url,
                        token_encrypted=(
                            self._encryption.encrypt(seed.api_key) if seed.api_key else None
                        ),
                        enabled=True,
                        options={"statusPages": list(seed.status_pages)},
                        updated_by=None,
                    )
                )
        except IntegrityError:
            # Another process starting at the same moment wrote it first.
            return False
        self._store.forget()
        log.info("connections.seeded_from_settings", name=NAME)
        return True

    # Internals

    async def _stored(self) -> KumaLink | None:
        """What is stored, even turned off (the form tests it again), else the settings'."""
        async with self._db.unit_of_work() as session:
            row = await self._store.row(session, NAME)
        if row is None:
            return self._settings_seed()
        return KumaLink(row.url, _slugs(row.options or {}), self._store.token_of(row))

    def _key(self, change: ApiKeyChange, stored: KumaLink | None) -> str | None:
        """The key a test or save uses. Raises `InvalidApiKey` for one Kuma could not have."""
        if isinstance(change, Keep):
            return stored.api_key if stored else None
        if change is None or not change.strip():
            return None
        return check_api_key(change)

    def _link(self, row: ServiceConnection | None) -> KumaLink | None:
        if row is None:
            return self._settings_seed()
        if not row.enabled or not row.url:
            return None
        slugs = _slugs(row.options or {})
        if not slugs:
            return None
        return KumaLink(row.url, slugs, self._store.token_of(row))

    def _settings_seed(self) -> KumaLink | None:
        settings = self._settings
        if settings.uptime_kuma_url is None or not settings.uptime_kuma_status_pages:
            return None
        try:
            url = check_url(settings.uptime_kuma_url, KUMA_URL)
            slugs = check_status_pages(settings.uptime_kuma_status_pages)
            secret = settings.uptime_kuma_api_key
            text = secret.get_secret_value().strip() if secret is not None else ""
            key = check_api_key(text) if text else None
        except (BadUrl, ValidationFailed):
            log.warning("status.uptime_kuma_settings_invalid")
            return None
        return KumaLink(url, slugs, key)


def _slugs(options: dict[str, object]) -> tuple[str, ...]:
    found = options.get("statusPages")
    if not isinstance(found, list):
        return ()
    return tuple(str(slug) for slug in found if isinstance(slug, str) and slug)
