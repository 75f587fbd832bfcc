"""Announcements: what the domain adds to MediaNest (see `core.domain`)."""

from __future__ import annotations

from dataclasses import dataclass

from medianest.auth.directory import UserDirectory
from medianest.broadcasts.board import BroadcastBoard
from medianest.broadcasts.deps import DOMAIN
from medianest.broadcasts.pages import broadcast_pages
from medianest.broadcasts.router import router
from medianest.broadcasts.service import BroadcastService
from medianest.core.domain import Domain
from medianest.core.runtime import Platform
from medianest.notifications.service import NotificationService


@dataclass(kw_only=True)
class Broadcasts(Domain):
    service: BroadcastService
    board: BroadcastBoard


def build_broadcasts(
    platform: Platform, notifications_service: NotificationService, users: UserDirectory
) -> Broadcasts:
    """`users` says who is active (who an announcement reaches) and who sent each one."""
    board = BroadcastBoard(platform.db, platform.bus)
    service = BroadcastService(
        notifications=notifications_service,
        users=users,
        audit=platform.audit,
        changed=board.changed,
    )
    return Broadcasts(
        name=DOMAIN,
        routers=(router,),
        pages=broadcast_pages(board),
        start=board.start,
        stop=board.stop,
        service=service,
        board=board,
    )
