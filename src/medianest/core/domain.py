"""`Domain`: what one domain adds to MediaNest, made by the domain's own `build_*` function.

`app.py` builds the domains in one list, each from the platform and the domains before it; the
app then adds every domain's routers and pages, and starts them in that order and stops them in
the reverse one (so nothing is stopped while a later domain still uses it). A shared upstream
adapter that several domains call (`integrations/`) is listed the same way, before its users.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI

from medianest.core.ratelimit import LimitName

PageInstaller = Callable[[FastAPI, Any], None]
"""Adds a domain's pages to the app, given the web shell (which core does not know)."""


@dataclass(kw_only=True)
class Domain:
    name: str
    routers: tuple[APIRouter, ...] = ()
    fast_paths: tuple[str, ...] = ()
    """GET paths of `routers` served through `core.routing.fast_route` (asked on every page)."""
    limits: Mapping[str, LimitName | None] = field(default_factory=dict)
    """API paths that spend another allowance than the general one; None: no limit refuses them."""
    upstream_paths: tuple[str, ...] = ()
    """Path prefixes whose routes call an upstream, and so can answer 503 and 504."""
    pages: PageInstaller | None = None
    start: Callable[[], Awaitable[None]] | None = None
    """Background parts (pollers, listeners); run after the platform started."""
    stop: Callable[[], Awaitable[None]] | None = None
    """Stops what `start` started and closes the domain's clients."""
