"""Adding a domain's routes to the app."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI


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
