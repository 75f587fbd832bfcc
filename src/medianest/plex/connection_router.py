"""`/api/v1/admin/services/plex` and `/api/v1/admin/plex/{servers,link}`: connecting Plex
(administrators only)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from medianest.auth.cookies import PIN_COOKIE, PIN_COOKIE_PATH
from medianest.auth.deps import AdminUser, ClientDep
from medianest.core.deps import DbSession
from medianest.core.openapi import error_responses
from medianest.core.schemas import Envelope
from medianest.plex.connection import PlexStatus
from medianest.plex.connection_deps import ConnectionServiceDep
from medianest.plex.connection_schemas import (
    PlexAccountRead,
    PlexConnectionRead,
    PlexConnectionTest,
    PlexConnectionUpdate,
    PlexLink,
    PlexServerChoice,
    PlexServerConnectionRead,
    PlexServerRead,
    PlexTestResult,
)

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def _status(status: PlexStatus) -> PlexConnectionRead:
    server = status.server
    return PlexConnectionRead(
        url=status.url,
        configured=status.configured,
        token_set=status.token_set,
        enabled=status.enabled,
        account_linked=status.account_linked,
        updated_at=status.updated_at,
        server=PlexServerRead(
            name=server.name, version=server.version, machine_identifier=server.machine_identifier
        )
        if server
        else None,
    )


@router.get("/services/plex", response_model=Envelope[PlexConnectionRead])
async def plex_connection(
    admin: AdminUser, session: DbSession, connections: ConnectionServiceDep
) -> Envelope[PlexConnectionRead]:
    return Envelope(data=_status(await connections.plex_status(session, admin)))


@router.post("/services/plex/test", response_model=Envelope[PlexTestResult])
async def test_plex_connection(
    body: PlexConnectionTest,
    admin: AdminUser,
    session: DbSession,
    connections: ConnectionServiceDep,
) -> Envelope[PlexTestResult]:
    result = await connections.test_plex(session, admin, url=body.url, token=body.token)
    return Envelope(
        data=PlexTestResult(
            ok=result.ok,
            latency_ms=result.latency_ms,
            name=result.name,
            version=result.version,
            machine_identifier=result.machine_identifier,
            reason=result.reason,
            error=result.error,
        )
    )


@router.put("/services/plex", response_model=Envelope[PlexConnectionRead])
async def connect_plex(
    body: PlexConnectionUpdate,
    admin: AdminUser,
    connections: ConnectionServiceDep,
    client: ClientDep,
) -> Envelope[PlexConnectionRead]:
    status = await connections.connect_plex(
        admin, url=body.url, token=body.token or None, actor=client.actor(admin)
    )
    return Envelope(data=_status(status))


@router.get(
    "/plex/servers", response_model=Envelope[list[PlexServerChoice]], responses=error_responses(409)
)
async def plex_servers(
    admin: AdminUser, session: DbSession, connections: ConnectionServiceDep
) -> Envelope[list[PlexServerChoice]]:
    servers = await connections.plex_servers(session, admin)
    return Envelope(
        data=[
            PlexServerChoice(
                name=server.name,
                machine_identifier=server.client_identifier,
                owned=server.owned,
                connections=[
                    PlexServerConnectionRead(uri=c.uri, local=c.local, relay=c.relay)
                    for c in server.connections
                ],
            )
            for server in servers
        ]
    )


@router.post("/plex/link", response_model=Envelope[PlexAccountRead], responses=error_responses(409))
async def link_plex_account(
    body: PlexLink,
    request: Request,
    response: Response,
    admin: AdminUser,
    connections: ConnectionServiceDep,
    client: ClientDep,
) -> Envelope[PlexAccountRead]:
    account = await connections.link_plex_account(
        admin,
        pin_id=body.pin_id,
        browser_secret=request.cookies.get(PIN_COOKIE),
        actor=client.actor(admin),
    )
    response.delete_cookie(PIN_COOKIE, path=PIN_COOKIE_PATH)
    return Envelope(data=PlexAccountRead(username=account.username, email=account.email))
