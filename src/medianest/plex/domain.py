"""The Plex library: browsing and searching it, its local index and the sync that fills it."""

from __future__ import annotations

from dataclasses import dataclass

from medianest.auth.domain import Auth
from medianest.connections.models import PLEX
from medianest.connections.service import ConnectionChanged, Connections
from medianest.core.domain import Domain
from medianest.core.runtime import Platform
from medianest.integrations.plex.server import PlexServerClient
from medianest.integrations.plex.upstream import PlexUpstream
from medianest.plex.admin_router import router as admin_router
from medianest.plex.connection import PlexConnectionService
from medianest.plex.connection_router import router as connection_router
from medianest.plex.pages import install_plex_pages
from medianest.plex.probe import PlexProbe
from medianest.plex.router import IMAGE_PATH, router
from medianest.plex.service import PlexService
from medianest.plex.sync import LibrarySync


@dataclass(kw_only=True)
class Plex(Domain):
    service: PlexService
    sync: LibrarySync
    connection: PlexConnectionService


def build_plex(
    platform: Platform, upstream: PlexUpstream, connections: Connections, auth: Auth
) -> Plex:
    settings = platform.settings
    service = PlexService(
        settings=settings,
        cache=platform.cache,
        db=platform.db,
        encryption=platform.encryption,
        plex_tokens=auth.service.plex_tokens,
        plex_tv=upstream.plex_tv,
        connection=connections.store.plex,
        servers=upstream.servers,
    )

    async def plex_for_sync() -> tuple[PlexServerClient, str]:
        # Asked at each sync, so a server connected or changed since start-up is the one synced.
        server = await service.callers.server()
        return server.client, server.owner_token

    sync = LibrarySync(
        db=platform.db,
        queue=platform.queue,
        index=service.index,
        connect=plex_for_sync,
        audit=platform.audit,
        interval_minutes=settings.plex_sync_interval_minutes,
        on_changed=service.libraries_changed,
    )

    connection = PlexConnectionService(
        db=platform.db,
        connections=connections,
        probe=PlexProbe(settings, upstream.plex_tv, upstream.servers),
        audit=platform.audit,
        plex_tv=upstream.plex_tv,
        auth=auth.service,
    )

    async def server_changed(event: ConnectionChanged) -> None:
        if event.name != PLEX:
            return
        await service.forget_server()
        if event.here:
            # Once, by the process that saved it: index the new server whole.
            await sync.on_connected()

    connections.on_changed(server_changed)

    async def start() -> None:
        sync.start_scheduler()

    async def stop() -> None:
        await sync.stop()
        await service.aclose()

    return Plex(
        name="plex",
        routers=(router, admin_router, connection_router),
        limits={IMAGE_PATH: "images"},
        upstream_paths=("/api/v1/plex/", "/api/v1/admin/plex/"),
        pages=install_plex_pages,
        start=start,
        stop=stop,
        service=service,
        sync=sync,
        connection=connection,
    )
