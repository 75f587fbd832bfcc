"""`POST /api/v1/webhooks/overseerr`: Overseerr's webhook agent (no user, its own secret)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from medianest.core.openapi import error_responses
from medianest.requests.connection import WEBHOOK_PATH
from medianest.requests.deps import WebhooksDep

router = APIRouter(tags=["webhooks"])


@router.post(
    WEBHOOK_PATH,
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(400, 401),
)
async def overseerr_webhook(request: Request, webhooks: WebhooksDep) -> Response:
    """Overseerr's or Seerr's default webhook payload; `Authorization` must be the value shown
    on the admin's Requests service page."""
    await webhooks.receive(request.headers.get("authorization"), await request.body())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
