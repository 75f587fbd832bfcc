"""Requests: what the domain adds to MediaNest (see `core.domain`)."""

from __future__ import annotations

from dataclasses import dataclass

from medianest.admin.domain import Admin
from medianest.auth.domain import Auth
from medianest.connections.service import ConnectionChanged, Connections
from medianest.core.domain import Domain
from medianest.core.runtime import Platform
from medianest.integrations.overseerr.upstream import OverseerrUpstream
from medianest.plex.domain import Plex
from medianest.requests.accounts import OverseerrAccounts
from medianest.requests.admin_router import router as admin_router
from medianest.requests.catalogue import Catalogue
from medianest.requests.changes import Notifier, StatusChanges
from medianest.requests.connection import NAME, WEBHOOK_PATH, OverseerrConnectionService
from medianest.requests.connection_router import router as connection_router
from medianest.requests.deps import DOMAIN
from medianest.requests.library import LibraryArrivals
from medianest.requests.mine import MyRequests
from medianest.requests.overseerr import OverseerrService
from medianest.requests.pages import install_requests_pages
from medianest.requests.probe import OverseerrProbe
from medianest.requests.router import router
from medianest.requests.service import RequestService
from medianest.requests.states import TitleStates
from medianest.requests.sync import RequestSync
from medianest.requests.user_facts import request_facts
from medianest.requests.webhook_router import router as webhook_router
from medianest.requests.webhooks import OverseerrWebhooks


@dataclass(kw_only=True)
class Requests(Domain):
    connection: OverseerrConnectionService
    overseerr: OverseerrService
    catalogue: Catalogue
    service: RequestService
    mine: MyRequests
    webhooks: OverseerrWebhooks
    sync: RequestSync


def build_requests(
    platform: Platform,
    upstream: OverseerrUpstream,
    connections: Connections,
    auth: Auth,
    plex: Plex,
    admin: Admin,
    notifier: Notifier | None = None,
) -> Requests:
    """`notifier` tells requesters and followers when their requests move on; `admin` lists
    how many requests each user made."""
    connection = OverseerrConnectionService(
        settings=platform.settings,
        db=platform.db,
        connections=connections,
        clients=upstream.clients,
        probe=OverseerrProbe(platform.settings, upstream.clients),
        encryption=platform.encryption,
        audit=platform.audit,
    )
    overseerr = OverseerrService(cache=platform.cache, connection=connection)
    mine = MyRequests(auth.users)
    admin.service.add_user_facts(request_facts(mine))
    changes = StatusChanges(notifier, bus=platform.bus)
    service = RequestService(
        db=platform.db,
        overseerr=overseerr,
        connection=connection,
        accounts=OverseerrAccounts(auth.users),
        limiter=platform.limiter,
        in_plex=plex.service.in_plex,
        users=auth.users,
        mine=mine,
        audit=platform.audit,
        changes=changes,
    )
    sync = RequestSync(
        db=platform.db,
        connection=connection,
        changes=changes,
        interval_seconds=platform.settings.overseerr_sync_interval_seconds,
    )
    arrivals = LibraryArrivals(platform.db, plex.service.in_plex, changes)

    async def found_in_plex(keys: list[str]) -> None:
        await arrivals.libraries_changed(keys)

    plex.service.on_libraries_changed(found_in_plex)

    async def overseerr_changed(event: ConnectionChanged) -> None:
        if event.name == NAME:
            await overseerr.forget_all()

    connections.on_changed(overseerr_changed)

    webhooks = OverseerrWebhooks(platform.db, connection, changes)

    async def start() -> None:
        await connection.seed_from_settings()
        sync.start()

    async def stop() -> None:
        await sync.stop()
        await webhooks.aclose()

    return Requests(
        name=DOMAIN,
        routers=(router, admin_router, connection_router, webhook_router),
        # Overseerr posts every notification from one address; its secret guards the route.
        limits={WEBHOOK_PATH: None},
        upstream_paths=("/api/v1/media/", "/api/v1/admin/services/overseerr"),
        pages=install_requests_pages,
        start=start,
        stop=stop,
        connection=connection,
        overseerr=overseerr,
        catalogue=Catalogue(overseerr, TitleStates(plex.service.in_plex)),
        service=service,
        mine=mine,
        webhooks=webhooks,
        sync=sync,
    )
