"""Dependencies of the requests routes and pages, declared once as named aliases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request

from medianest.requests.catalogue import Catalogue
from medianest.requests.connection import OverseerrConnectionService
from medianest.requests.mine import MyRequests
from medianest.requests.service import RequestService
from medianest.requests.sync import RequestSync
from medianest.requests.webhooks import OverseerrWebhooks

if TYPE_CHECKING:
    from medianest.requests.domain import Requests

DOMAIN = "requests"


def get_requests(request: Request) -> Requests:
    # The builder names the domain DOMAIN; the domain module imports the routers, which import
    # this one, so the type is only named here.
    return cast("Requests", request.state.services.domain(DOMAIN))


async def get_connection_service(request: Request) -> OverseerrConnectionService:
    return get_requests(request).connection


OverseerrConnectionDep = Annotated[OverseerrConnectionService, Depends(get_connection_service)]


async def get_catalogue(request: Request) -> Catalogue:
    return get_requests(request).catalogue


async def get_request_service(request: Request) -> RequestService:
    return get_requests(request).service


async def get_my_requests(request: Request) -> MyRequests:
    return get_requests(request).mine


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
RequestServiceDep = Annotated[RequestService, Depends(get_request_service)]
MyRequestsDep = Annotated[MyRequests, Depends(get_my_requests)]


async def get_webhooks(request: Request) -> OverseerrWebhooks:
    return get_requests(request).webhooks


async def get_request_sync(request: Request) -> RequestSync:
    return get_requests(request).sync


WebhooksDep = Annotated[OverseerrWebhooks, Depends(get_webhooks)]
RequestSyncDep = Annotated[RequestSync, Depends(get_request_sync)]
