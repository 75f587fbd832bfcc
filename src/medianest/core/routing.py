"""Adding a domain's routes to the app, and the plain routes of the few hottest paths."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.routing import Match, Route
from starlette.types import Scope


def attach(app: FastAPI, router: APIRouter) -> None:
    """Add `router`'s routes to the app itself instead of through `include_router`.

    FastAPI keeps an included router as one nested route whose candidates are walked on every
    request, which cost about a fifth of a small request here (measured in bench/). Our routers
    set their prefix, tags and response class on the router, so each route already carries them;
    router-level dependencies would be lost, so routers must not declare any. Call before the app
    serves its first request.
    """
    if router.dependencies:
        raise ValueError("attach() would drop this router's dependencies; use include_router")
    app.router.routes.extend(router.routes)


class PlainRoute(Route):
    """A Starlette route for a path called on every probe or page load (/health, the session
    check): it skips FastAPI's dependency solving, validation and response models, which cost more
    than the work such an endpoint does. Put it first with `serve_first` so matching stops at once.

    It names itself in the scope as FastAPI's routes do, so metrics label it by its path.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def serve_first(app: FastAPI, *routes: PlainRoute) -> None:
    """Put `routes` ahead of every other route, in the order given."""
    app.router.routes[0:0] = routes
