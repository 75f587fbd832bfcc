"""An announcement as the API answers it, shared by the routes."""

from __future__ import annotations

from medianest.broadcasts.schemas import BroadcastRead, BroadcastSent, UserRef
from medianest.broadcasts.service import BroadcastEntry


def broadcast_read(entry: BroadcastEntry) -> BroadcastRead:
    row = entry.broadcast
    sender = (
        UserRef(id=row.created_by, username=entry.sent_by)
        if row.created_by is not None and entry.sent_by is not None
        else None
    )
    return BroadcastRead.model_validate(
        {
            "id": row.id,
            "title": row.title,
            "message": row.message,
            "severity": row.severity,
            "status": entry.status,
            "created_at": row.created_at,
            "created_by": sender,
            "expires_at": row.expires_at,
            "withdrawn_at": row.withdrawn_at,
        }
    )


def broadcast_sent(entry: BroadcastEntry, recipients: int) -> BroadcastSent:
    return BroadcastSent(**broadcast_read(entry).model_dump(), recipients=recipients)
