"""Adding a domain's routes to the app, finding a request's route quickly, and the plain fast
path of the few hottest FastAPI endpoints."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

_SELECTED = "medianest.route"
"""Child-scope key: the route `RouteIndex` matched, for its `handle`."""
_KEY_DEPTH = 3
"""Path segments a bucket key holds: `/api/v1/plex` tells the API's domains apart."""
_PURE = "medianest_answer_from_dependencies"
# Answers `fast_route` keeps per endpoint marked `answers_from_dependencies` (one per caller,
# for the session check): a few thousand signed-in devices, each a few hundred bytes.
_KEPT_ANSWERS = 4096
# Paths whose candidates `RouteIndex` remembers as they are (the app's fixed paths and the ids
# people open), so most requests skip splitting theirs.
_KEPT_PATHS = 4096

E = TypeVar("E", bound=Callable[..., Any])


def answers_from_dependencies(endpoint: E) -> E:
    """Mark a FastAPI endpoint whose answer depends on nothing but its dependencies' values
    (immutable snapshots, like the caller's `Principal`): its `fast_route` then writes the
    answer once per distinct value and hands out the same bytes after that."""
    setattr(endpoint, _PURE, True)
    return endpoint


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
    """A Starlette route that names itself in the scope as FastAPI's routes do, so metrics label
    it by its path. `/health` is one; `fast_route` makes others from FastAPI endpoints."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def fast_route(route: APIRoute) -> PlainRoute:
    """`route` served without FastAPI's per-request machinery: the same endpoint, called with the
    same dependencies, its answer written by its own response model.

    Only for an endpoint whose every parameter is a dependency taking nothing but the request (so
    nothing is left to parse or validate), and which answers its response model: anything else
    raises ValueError here, at start-up, rather than behaving differently at run time. The FastAPI
    route stays the one definition: it documents the operation, and serves it should the fast
    path ever be left out. Errors the dependencies or endpoint raise reach the app's handlers.
    """
    dependant = route.dependant
    if _has_own_params(dependant) or route.response_model is None or _shapes_answer(route):
        raise ValueError(f"{route.path} takes parameters or has no plain response model")
    calls: list[tuple[str, Callable[[Request], Awaitable[Any]]]] = []
    for dependency in dependant.dependencies:
        call = dependency.call
        if (
            dependency.name is None
            or call is None
            or dependency.request_param_name is None
            or dependency.dependencies
            or _has_own_params(dependency)
            or not inspect.iscoroutinefunction(call)
        ):
            raise ValueError(f"{route.path}: {dependency.name} is not an async request-only call")
        calls.append((dependency.name, call))
    endpoint = route.endpoint
    answer: TypeAdapter[Any] = TypeAdapter(route.response_model)
    status = route.status_code or 200
    names = [name for name, _ in calls]

    async def dump(values: tuple[Any, ...]) -> bytes:
        answered = await endpoint(**dict(zip(names, values, strict=True)))
        return answer.dump_json(answered, by_alias=True)

    write: Callable[[tuple[Any, ...]], Awaitable[bytes]] = (
        _kept(dump) if getattr(endpoint, _PURE, False) else dump
    )

    async def serve(request: Request) -> Response:
        body = await write(tuple([await call(request) for _, call in calls]))
        return Response(body, status_code=status, media_type="application/json")

    methods = set(route.methods or ()) | ({"HEAD"} if "GET" in (route.methods or ()) else set())
    return PlainRoute(route.path, serve, methods=sorted(methods), name=route.name)


def _kept(
    write: Callable[[tuple[Any, ...]], Awaitable[bytes]],
) -> Callable[[tuple[Any, ...]], Awaitable[bytes]]:
    """`write`, its bytes kept per tuple of dependency values, the oldest dropped first (a
    snapshot that changed is a new value, so nothing kept is ever stale, only unused)."""
    answers: dict[tuple[Hashable, ...], bytes] = {}

    async def written(values: tuple[Any, ...]) -> bytes:
        found = answers.get(values)
        if found is None:
            found = await write(values)
            if len(answers) >= _KEPT_ANSWERS:
                del answers[next(iter(answers))]
            answers[values] = found
        return found

    return written


def fast_routes(routers: Sequence[APIRouter], paths: Sequence[str]) -> list[PlainRoute]:
    """`fast_route` of the GET route at each of `paths` among `routers`' routes."""
    found = {
        r.path: r
        for router in routers
        for r in router.routes
        if isinstance(r, APIRoute) and "GET" in (r.methods or ())
    }
    return [fast_route(found[path]) for path in paths]


def _shapes_answer(route: APIRoute) -> bool:
    """Whether the route asks FastAPI to leave fields out or name them otherwise."""
    return bool(
        route.response_model_include
        or route.response_model_exclude
        or route.response_model_exclude_unset
        or route.response_model_exclude_defaults
        or route.response_model_exclude_none
        or not route.response_model_by_alias
    )


def _has_own_params(dependant: Any) -> bool:
    return bool(
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
    )


def serve_first(app: FastAPI, *routes: BaseRoute) -> None:
    """Put `routes` ahead of every other route, in the order given."""
    app.router.routes[0:0] = routes


class RouteIndex(BaseRoute):
    """Finds a request's route among the app's routes without walking them all.

    The router tries routes one by one, and each try costs a few microseconds in FastAPI: with
    every domain's routes in one list, finding a route near the end was a large part of a small
    request (measured in bench/http_overhead.py). The index sits in the list ahead of the routes
    it covers, which stay in place (the OpenAPI document, `url_path_for` and anything else that
    reads the list see them unchanged). It sorts them once into buckets by the literal start of
    their path and tries only the bucket's routes, in their original order, so the first route to
    match is the one the router would have chosen. A request none of them matches falls through
    to the router's own walk, which still answers 404, 405 and the trailing-slash redirect.
    """

    def __init__(self, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self._routes = routes
        self._deep: dict[str, list[tuple[int, Route]]] = {}
        self._shallow: dict[str, list[tuple[int, Route]]] = {}
        self._anywhere: list[tuple[int, Route]] = []
        self._candidates: dict[tuple[str | None, str | None], list[Route]] = {}
        self._by_path: dict[str, list[Route]] = {}
        self._built = False

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        if not self._built:
            self._build()
        partial: tuple[Route, Scope] | None = None
        for route in self._candidates_for(get_route_path(scope)):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                child_scope[_SELECTED] = route
                return match, child_scope
            if match is Match.PARTIAL and partial is None:
                partial = (route, child_scope)
        if partial is not None:
            partial[1][_SELECTED] = partial[0]
            return Match.PARTIAL, partial[1]
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: Route = scope[_SELECTED]
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        # The routes themselves are in the router's list, which answers for them.
        raise NoMatchFound(name, path_params)

    def _build(self) -> None:
        for position, route in enumerate(self._routes()):
            if not isinstance(route, Route):
                continue  # mounts keep the router's walk
            literal = route.path_format.split("{", 1)[0]
            parts = literal.split("/")
            if "{" in route.path_format:
                parts = parts[:-1]  # the last piece runs into a parameter: not a whole segment
            entry = (position, route)
            if len(parts) > _KEY_DEPTH:
                self._deep.setdefault("/".join(parts[: _KEY_DEPTH + 1]), []).append(entry)
            elif len(parts) > 1:
                self._shallow.setdefault("/" + parts[1], []).append(entry)
            else:
                self._anywhere.append(entry)
        self._built = True

    def _candidates_for(self, path: str) -> list[Route]:
        found = self._by_path.get(path)
        if found is None:
            found = self._bucket(path)
            if len(self._by_path) < _KEPT_PATHS:  # a stranger's many paths only miss this
                self._by_path[path] = found
        return found

    def _bucket(self, path: str) -> list[Route]:
        parts = path.split("/", _KEY_DEPTH + 1)
        deep = "/".join(parts[: _KEY_DEPTH + 1]) if len(parts) > _KEY_DEPTH else None
        shallow = "/" + parts[1] if len(parts) > 1 else None
        # Only keys some route has are kept, so a stranger's paths cannot grow this.
        key = (deep if deep in self._deep else None, shallow if shallow in self._shallow else None)
        found = self._candidates.get(key)
        if found is None:
            entries = [*self._anywhere]
            entries += self._deep.get(key[0], []) if key[0] else []
            entries += self._shallow.get(key[1], []) if key[1] else []
            found = self._candidates[key] = [route for _, route in sorted(entries)]
        return found


def index_routes(app: FastAPI) -> None:
    """Put a `RouteIndex` over the app's routes, ahead of them all (the plain routes that go
    first are first in its buckets too)."""
    app.router.routes.insert(0, RouteIndex(lambda: app.router.routes))
