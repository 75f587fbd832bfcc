"""One row per external service MediaNest connects to, keyed by the service's name."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medianest.core.db import Base, utc_now

PLEX = "plex"


class ServiceConnection(Base):
    __tablename__ = "service_connections"

    # `plex`, `overseerr`; each name's row is read and written by the domain that owns it.
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Sealed by the encryption service; never returned by the API nor logged.
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    # What the last successful test learnt (for Plex: name, version, machineIdentifier).
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    # No foreign key: the record of who connected a service outlives that account.
    updated_by: Mapped[uuid.UUID | None]
