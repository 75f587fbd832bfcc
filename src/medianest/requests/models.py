"""The requests MediaNest made for its users, who follows them, how each one went, and who each
user is in Overseerr.

`media_requests` is the source of truth for what a person asked for: a request refused or not
sent (Overseerr down) is never stored, and one that was sent is never lost with a cache or a
restart. `request_claims` makes "one open request per title (per season, for a show)" a
constraint, not a hope: creating a request inserts a claim for each thing it asks for, in the
same transaction, so two people (or two tabs) asking at the same instant cannot both win; the
loser follows the winner's request instead. A claim goes when its request is finished
(available, declined, failed, cancelled).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medianest.core.db import Base, Timestamps, UUIDPrimaryKey, utc_now


class RequestStatus(enum.StrEnum):
    # Being sent to Overseerr: visible to no one but the code that sends it.
    SUBMITTING = "submitting"
    PENDING = "pending"
    APPROVED = "approved"
    PROCESSING = "processing"
    PARTIALLY_AVAILABLE = "partially_available"
    AVAILABLE = "available"
    DECLINED = "declined"
    FAILED = "failed"

    @property
    def open(self) -> bool:
        """Still on its way to Plex (so others follow it rather than ask again)."""
        return self in _OPEN


_OPEN = frozenset(
    {
        RequestStatus.SUBMITTING,
        RequestStatus.PENDING,
        RequestStatus.APPROVED,
        RequestStatus.PROCESSING,
        RequestStatus.PARTIALLY_AVAILABLE,
    }
)


class EventSource(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"
    WEBHOOK = "webhook"
    SYNC = "sync"
    LIBRARY = "library"


class MediaRequest(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "media_requests"
    __table_args__ = (
        Index("ix_media_requests_user_id_created_at", "user_id", "created_at"),
        Index("ix_media_requests_media_type_tmdb_id", "media_type", "tmdb_id"),
        Index("ix_media_requests_status_created_at", "status", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    media_type: Mapped[str] = mapped_column(String(10))
    tmdb_id: Mapped[int] = mapped_column(Integer())
    tvdb_id: Mapped[int | None] = mapped_column(Integer())
    is_4k: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(500))
    year: Mapped[int | None] = mapped_column(Integer())
    poster_path: Mapped[str | None] = mapped_column(String(300))
    # A show's season numbers asked for; None for a movie.
    seasons: Mapped[list[int] | None] = mapped_column(JSON())
    status: Mapped[str] = mapped_column(String(30), default=RequestStatus.SUBMITTING)
    # Overseerr's own id for it, once sent; unique so a webhook or a sync finds one row.
    overseerr_id: Mapped[int | None] = mapped_column(BigInteger(), unique=True)
    # Why an administrator declined it, or why Overseerr failed it, for the requester.
    reason: Mapped[str | None] = mapped_column(Text())
    # When Overseerr last changed it, as its sync saw (a later sync skips what did not change).
    upstream_updated_at: Mapped[datetime | None]


class RequestClaim(Base):
    """ "This title (this season) is asked for by that open request": one row per key."""

    __tablename__ = "request_claims"

    # `movie:<tmdb id>:<4k 0|1>` or `tv:<tmdb id>:<4k 0|1>:<season>`
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("media_requests.id", ondelete="CASCADE"), index=True
    )


class RequestFollower(Base):
    """Someone who asked for a title another user had already requested, and is told too."""

    __tablename__ = "request_followers"

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("media_requests.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class RequestEvent(UUIDPrimaryKey, Base):
    """One step of a request's history: the status it reached, when, and who said so."""

    __tablename__ = "request_events"
    __table_args__ = (Index("ix_request_events_request_id_at", "request_id", "at"),)

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("media_requests.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utc_now)


class OverseerrAccount(Base):
    """Who a MediaNest user is in Overseerr (`X-API-User`), found by their Plex id."""

    __tablename__ = "overseerr_accounts"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    overseerr_id: Mapped[int] = mapped_column(Integer())
    # Overseerr's permission bits when last looked up (4K requests need their own).
    permissions: Mapped[int] = mapped_column(BigInteger(), default=0)
    checked_at: Mapped[datetime] = mapped_column(default=utc_now)


def claim_keys(media_type: str, tmdb_id: int, is_4k: bool, seasons: list[int] | None) -> list[str]:
    prefix = f"{media_type}:{tmdb_id}:{int(is_4k)}"
    if media_type == "movie" or not seasons:
        return [prefix]
    return [f"{prefix}:{season}" for season in sorted(set(seasons))]
