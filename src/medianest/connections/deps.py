"""Dependencies of the connection routes and pages, declared once as named aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from medianest.connections.service import ConnectionService


async def get_connection_service(request: Request) -> ConnectionService:
    service: ConnectionService = request.state.services.connections
    return service


ConnectionServiceDep = Annotated[ConnectionService, Depends(get_connection_service)]
