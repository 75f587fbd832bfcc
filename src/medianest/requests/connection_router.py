"""`/api/v1/admin/services/overseerr`: connecting Overseerr or Seerr (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from medianest.auth.deps import AdminUser, ClientDep
from medianest.core.deps import DbSession
from medianest.core.schemas import Envelope
from medianest.requests.connection import WEBHOOK_PATH, OverseerrStatus
from medianest.requests.connection_schemas import (
    OverseerrConnectionRead,
    OverseerrConnectionTest,
    OverseerrConnectionUpdate,
    OverseerrTestResult,
    WebhookRead,
)
from medianest.requests.deps import OverseerrConnectionDep

router = APIRouter(prefix="/api/v1/admin/services/overseerr", tags=["admin"])


def _read(status: OverseerrStatus, request: Request) -> OverseerrConnectionRead:
    webhook = None
    if status.webhook_authorization is not None:
        webhook = WebhookRead(url=webhook_url(request), authorization=status.webhook_authorization)
    return OverseerrConnectionRead(
        url=status.url,
        configured=status.configured,
        api_key_set=status.api_key_set,
        enabled=status.enabled,
        flavour=status.flavour,
        version=status.version,
        allow_plex_import=status.allow_plex_import,
        webhook=webhook,
        updated_at=status.updated_at,
    )


def webhook_url(request: Request) -> str:
    """Where Overseerr posts its notifications: the public address when one is configured,
    else the one this request came to."""
    public = request.state.services.platform.settings.public_url
    base = public.rstrip("/") if public else str(request.base_url).rstrip("/")
    return base + WEBHOOK_PATH


@router.get("", response_model=Envelope[OverseerrConnectionRead])
async def overseerr_connection(
    request: Request, _: AdminUser, session: DbSession, connection: OverseerrConnectionDep
) -> Envelope[OverseerrConnectionRead]:
    return Envelope(data=_read(await connection.status(session), request))


@router.post("/test", response_model=Envelope[OverseerrTestResult])
async def try_overseerr_connection(
    body: OverseerrConnectionTest,
    _: AdminUser,
    session: DbSession,
    connection: OverseerrConnectionDep,
) -> Envelope[OverseerrTestResult]:
    result = await connection.test(session, url=body.url, api_key=body.api_key)
    return Envelope(
        data=OverseerrTestResult(
            ok=result.ok,
            latency_ms=result.latency_ms,
            version=result.version,
            flavour=result.flavour,
            reason=result.reason,
            error=result.error,
        )
    )


@router.put("", response_model=Envelope[OverseerrConnectionRead])
async def connect_overseerr(
    body: OverseerrConnectionUpdate,
    request: Request,
    admin: AdminUser,
    connection: OverseerrConnectionDep,
    client: ClientDep,
) -> Envelope[OverseerrConnectionRead]:
    status = await connection.connect(
        admin,
        url=body.url,
        api_key=body.api_key or None,
        allow_plex_import=body.allow_plex_import,
        actor=client.actor(admin),
    )
    return Envelope(data=_read(status, request))


@router.post("/webhook-secret", response_model=Envelope[OverseerrConnectionRead])
async def new_webhook_secret(
    request: Request, admin: AdminUser, connection: OverseerrConnectionDep, client: ClientDep
) -> Envelope[OverseerrConnectionRead]:
    status = await connection.new_webhook_secret(admin, actor=client.actor(admin))
    return Envelope(data=_read(status, request))
