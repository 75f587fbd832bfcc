"""Requests: what the domain adds to MediaNest (see `core.domain`)."""

from __future__ import annotations

from dataclasses import dataclass

from medianest.connections.service import Connections
from medianest.core.domain import Domain
from medianest.core.runtime import Platform
from medianest.integrations.overseerr.upstream import OverseerrUpstream
from medianest.requests.connection import OverseerrConnectionService
from medianest.requests.connection_router import router as connection_router
from medianest.requests.deps import DOMAIN
from medianest.requests.probe import OverseerrProbe


@dataclass(kw_only=True)
class Requests(Domain):
    connection: OverseerrConnectionService


def build_requests(
    platform: Platform, upstream: OverseerrUpstream, connections: Connections
) -> Requests:
    connection = OverseerrConnectionService(
        settings=platform.settings,
        db=platform.db,
        connections=connections,
        clients=upstream.clients,
        probe=OverseerrProbe(platform.settings, upstream.clients),
        encryption=platform.encryption,
        audit=platform.audit,
    )

    async def start() -> None:
        await connection.seed_from_settings()

    return Requests(
        name=DOMAIN,
        routers=(connection_router,),
        upstream_paths=("/api/v1/admin/services/overseerr",),
        start=start,
        connection=connection,
    )
