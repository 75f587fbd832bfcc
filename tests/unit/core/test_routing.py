"""The route index finds the route the router's own walk would, and a fast route answers what
its FastAPI endpoint answers."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from starlette.responses import PlainTextResponse
from starlette.routing import Mount

from medianest.core.routing import (
    answers_from_dependencies,
    attach,
    fast_route,
    fast_routes,
    index_routes,
    serve_first,
)


def _app(indexed: bool) -> FastAPI:
    app = FastAPI()
    router = APIRouter(prefix="/api/v1/things")

    @router.get("/recent")
    async def recent() -> str:
        return "recent"

    @router.get("/{key}")
    async def thing(key: str) -> str:
        return f"thing {key}"

    @router.get("/{key}/parts/{part}")
    async def part(key: str, part: int) -> str:
        return f"part {part} of {key}"

    @router.post("/{key}/parts")
    async def add_part(key: str) -> str:
        return f"added to {key}"

    pages = APIRouter()

    @pages.get("/")
    async def home() -> str:
        return "home"

    @pages.get("/library/{key}")
    async def library(key: str) -> str:
        return f"library {key}"

    @pages.get("/{anything}/about")
    async def about(anything: str) -> str:
        return f"about {anything}"

    @pages.get("/help/")
    async def help_page() -> str:
        return "help"

    attach(app, router)
    attach(app, pages)
    app.router.routes.append(
        Mount(
            "/static",
            app=lambda scope, receive, send: PlainTextResponse("file")(scope, receive, send),
        )
    )

    @app.get("/api/v1/late/{key}")
    async def late(key: str) -> str:
        return f"late {key}"

    if indexed:
        index_routes(app)
    return app


CALLS = [
    ("GET", "/api/v1/things/recent"),
    ("GET", "/api/v1/things/7"),
    ("GET", "/api/v1/things/7/parts/2"),
    ("GET", "/api/v1/things/7/parts/two"),
    ("POST", "/api/v1/things/7/parts"),
    ("GET", "/api/v1/things/7/parts"),
    ("DELETE", "/api/v1/things/7"),
    ("GET", "/"),
    ("GET", "/library/3"),
    ("GET", "/films/about"),
    ("GET", "/help"),
    ("GET", "/help/"),
    ("GET", "/static/app.css"),
    ("GET", "/api/v1/late/9"),
    ("GET", "/api/v1/nothing/here"),
    ("GET", "/api"),
    ("GET", "/nowhere"),
]


@pytest.mark.parametrize(("method", "path"), CALLS)
async def test_the_index_answers_every_request_as_the_plain_walk_does(
    method: str, path: str
) -> None:
    answers = []
    for indexed in (False, True):
        transport = httpx.ASGITransport(app=_app(indexed))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.request(method, path)
            answers.append((response.status_code, response.headers.get("location"), response.text))
    assert answers[0] == answers[1]
    assert answers[1][0] != 500


async def test_the_index_keeps_the_routes_where_the_app_lists_them() -> None:
    plain, indexed = _app(False), _app(True)
    listed = [(getattr(r, "path", None), getattr(r, "name", None)) for r in plain.routes]
    assert [
        (getattr(r, "path", None), getattr(r, "name", None))
        for r in indexed.routes
        if hasattr(r, "path")
    ] == listed
    assert indexed.openapi() == plain.openapi()
    assert indexed.url_path_for("part", key="a", part="1") == "/api/v1/things/a/parts/1"


class Greeting(BaseModel):
    text: str
    shouted: bool = False


async def _caller(request: Request) -> str:
    name = request.headers.get("x-name")
    if not name:
        raise HTTPException(401, "who are you?")
    return name


async def _mood(request: Request) -> bool:
    return request.headers.get("x-mood") == "loud"


def _greeting_app(fast: bool) -> FastAPI:
    app = FastAPI()
    router = APIRouter()

    @router.get("/greeting", response_model=Greeting, status_code=201)
    async def greeting(
        caller: Annotated[str, Depends(_caller)], loud: Annotated[bool, Depends(_mood)]
    ) -> Greeting:
        return Greeting(text=f"Hello, {caller}", shouted=loud)

    attach(app, router)
    if fast:
        serve_first(app, *fast_routes([router], ["/greeting"]))
    return app


@pytest.mark.parametrize(
    "headers", [{"x-name": "Ada"}, {"x-name": "Ada", "x-mood": "loud"}, {}], ids=str
)
async def test_a_fast_route_answers_what_its_endpoint_answers(headers: dict[str, str]) -> None:
    answers = []
    for fast in (False, True):
        transport = httpx.ASGITransport(app=_greeting_app(fast))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            get = await client.get("/greeting", headers=headers)
            head = await client.head("/greeting", headers=headers)
            answers.append((get.status_code, get.json()))
            if fast:  # as it always did, the fast path answers HEAD as GET without a body
                assert (head.status_code, head.content) == (get.status_code, b"")
    assert answers[0] == answers[1]


def test_only_an_endpoint_with_nothing_to_parse_gets_a_fast_route() -> None:
    router = APIRouter()

    @router.get("/search", response_model=Greeting)
    async def search(q: str) -> Greeting:
        return Greeting(text=q)

    async def needs_more(request: Request, caller: Annotated[str, Depends(_caller)]) -> str:
        return caller

    @router.get("/nested", response_model=Greeting)
    async def nested(who: Annotated[str, Depends(needs_more)]) -> Greeting:
        return Greeting(text=who)

    @router.get("/trimmed", response_model=Greeting, response_model_exclude_none=True)
    async def trimmed(caller: Annotated[str, Depends(_caller)]) -> Greeting:
        return Greeting(text=caller)

    for route in router.routes:
        with pytest.raises(
            ValueError,
            match=r"takes parameters|not an async request-only call|no plain response model",
        ):
            fast_route(route)  # type: ignore[arg-type]


async def test_an_answer_made_only_of_its_dependencies_is_written_once_per_value() -> None:
    written: list[str] = []
    router = APIRouter()

    @router.get("/kept", response_model=Greeting)
    @answers_from_dependencies
    async def kept(caller: Annotated[str, Depends(_caller)]) -> Greeting:
        written.append(caller)
        return Greeting(text=f"Hello, {caller}")

    @router.get("/fresh", response_model=Greeting)
    async def fresh(caller: Annotated[str, Depends(_caller)]) -> Greeting:
        written.append(f"fresh {caller}")
        return Greeting(text=f"Hi, {caller}")

    app = FastAPI()
    attach(app, router)
    serve_first(app, *fast_routes([router], ["/kept", "/fresh"]))
    transport = httpx.ASGITransport(app=app)
    calls = [("/kept", "Ada"), ("/kept", "Ada"), ("/kept", "Bo"), ("/fresh", "Ada")] * 2
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answers = [
            (await client.get(path, headers={"x-name": name})).json()["text"]
            for path, name in calls
        ]
    assert written == ["Ada", "Bo", "fresh Ada", "fresh Ada"]
    assert answers == ["Hello, Ada", "Hello, Ada", "Hello, Bo", "Hi, Ada"] * 2
