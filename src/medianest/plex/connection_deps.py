"""Dependencies of the connection routes and pages, declared once as named aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from medianest.plex.connection import PlexConnectionService


async def get_connection_service(request: Request) -> PlexConnectionService:
    service: PlexConnectionService = request.state.services.plex_connection
    return service


ConnectionServiceDep = Annotated[PlexConnectionService, Depends(get_connection_service)]
