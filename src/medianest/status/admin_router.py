"""`/api/v1/admin/services/uptime-kuma`: connecting Uptime Kuma (administrators only). The API
key goes in, never out."""

from __future__ import annotations

from fastapi import APIRouter

from medianest.auth.deps import AdminUser, ClientDep
from medianest.core.schemas import Envelope
from medianest.status.connection import KEEP, ApiKeyChange, KumaStatus
from medianest.status.deps import KumaConnectionDep
from medianest.status.schemas import (
    KumaConnectionRead,
    KumaConnectionTest,
    KumaConnectionUpdate,
    KumaTestResult,
)

router = APIRouter(prefix="/api/v1/admin/services/uptime-kuma", tags=["admin"])


def _read(status: KumaStatus) -> KumaConnectionRead:
    return KumaConnectionRead(
        url=status.url,
        status_pages=list(status.status_pages),
        configured=status.configured,
        api_key_set=status.api_key_set,
        version=status.version,
        updated_at=status.updated_at,
    )


def _key(body: KumaConnectionUpdate | KumaConnectionTest) -> ApiKeyChange:
    """Left out: keep the stored key; null or empty: none."""
    return body.api_key if "api_key" in body.model_fields_set else KEEP


@router.get("", response_model=Envelope[KumaConnectionRead])
async def kuma_connection(_: AdminUser, kuma: KumaConnectionDep) -> Envelope[KumaConnectionRead]:
    return Envelope(data=_read(await kuma.status()))


@router.post("/test", response_model=Envelope[KumaTestResult])
async def try_kuma_connection(
    body: KumaConnectionTest, _: AdminUser, kuma: KumaConnectionDep
) -> Envelope[KumaTestResult]:
    result = await kuma.test(url=body.url, status_pages=body.status_pages, api_key=_key(body))
    return Envelope(
        data=KumaTestResult(
            ok=result.ok,
            latency_ms=result.latency_ms,
            version=result.version,
            monitors=result.monitors,
            reason=result.reason,
            error=result.error,
        )
    )


@router.put("", response_model=Envelope[KumaConnectionRead])
async def connect_kuma(
    body: KumaConnectionUpdate, admin: AdminUser, kuma: KumaConnectionDep, client: ClientDep
) -> Envelope[KumaConnectionRead]:
    status = await kuma.connect(
        admin,
        url=body.url,
        status_pages=body.status_pages,
        api_key=_key(body),
        actor=client.actor(admin),
    )
    return Envelope(data=_read(status))


@router.delete("", response_model=Envelope[KumaConnectionRead])
async def disconnect_kuma(
    admin: AdminUser, kuma: KumaConnectionDep, client: ClientDep
) -> Envelope[KumaConnectionRead]:
    """Stop showing Uptime Kuma's monitors; its address and pages stay, to connect again."""
    return Envelope(data=_read(await kuma.disconnect(admin, actor=client.actor(admin))))
