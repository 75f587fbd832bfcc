"""A fake plex.tv (PIN sign-in, accounts, servers, the owner's friends) and app.plex.tv auth page.

Served by uvicorn on 127.0.0.1; answers follow reference/upstream-apis.md §1, built from the
captured shapes in `payloads/plex_tv/`. Like plex.tv, every `/api` call needs
`X-Plex-Client-Identifier`, and a PIN is found only with the identifier that created it.

State a test sets: `add_account(token, ...)`, `share(owner_token, account_id, *machine_ids)`,
`set_resources(token, [server_resource(...)])`, `replace_friends_list(body)`, `pin_lifetime`.
PINs: `approve(pin_id_or_code, token)`, `expire(pin_id)`, `pin_polls`. Switches:
`rate_limit_next(n)` (the next n PIN polls answer 429), `slow(seconds)`, `down()` (connections
refused), `healthy()`; `reset()` forgets everything. `requests` records every call (method, path,
query, headers) to assert on.

`GET /auth` is the page MediaNest opens as `{plex_app_url}/auth#?clientID=..&code=..`: one
button "Sign in as <username>" per account; a click approves the PIN for that account, then, like
app.plex.tv, the page follows `forwardUrl` when it has one, and otherwise stays open saying "You
can close this window". `stay_after_approval()` makes it stay even with a `forwardUrl` (a window
only the page that opened it can close).
"""

from __future__ import annotations

import asyncio
import copy
import html
import itertools
import json
import secrets
import string
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import EllipsisType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.support.server import ThreadedServer, free_port

PAYLOADS = Path(__file__).parent / "payloads" / "plex_tv"
_STRONG_CODE_ALPHABET = string.ascii_lowercase + string.digits


def payload(name: str) -> Any:
    """A fresh copy of a captured JSON shape."""
    return json.loads((PAYLOADS / name).read_text())


@dataclass
class FakeAccount:
    id: int
    username: str
    email: str | None
    thumb: str | None
    uuid: str


@dataclass
class FakePin:
    id: int
    code: str
    client_identifier: str
    created_at: datetime
    expires_in: int
    auth_token: str | None = None
    expired: bool = False

    @property
    def expires_at(self) -> datetime:
        return self.created_at + timedelta(seconds=self.expires_in)

    def is_gone(self) -> bool:
        return self.expired or datetime.now(UTC) >= self.expires_at


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str] = field(repr=False)


def server_resource(
    name: str,
    machine_identifier: str,
    *,
    access_token: str,
    uri: str = "http://192.168.1.20:32400",
    owned: bool = True,
) -> dict[str, Any]:
    """A Plex Media Server entry of `/api/v2/resources`, reachable at `uri` (local)."""
    resource: dict[str, Any] = payload("resources.json")[0]
    protocol, _, rest = uri.partition("://")
    address, _, port = rest.partition(":")
    resource.update(
        name=name, clientIdentifier=machine_identifier, accessToken=access_token, owned=owned
    )
    resource["connections"] = [
        {
            "protocol": protocol,
            "address": address,
            "port": int(port or 32400),
            "uri": uri,
            "local": True,
            "relay": False,
            "IPv6": False,
        }
    ]
    return resource


def client_resource(name: str = "Chrome") -> dict[str, Any]:
    """A player/browser entry of `/api/v2/resources` (not a server)."""
    resource: dict[str, Any] = payload("resources.json")[1]
    resource["name"] = name
    return resource


class FakePlexTv:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = Starlette(
            routes=[
                Route("/api/v2/pins", self._create_pin, methods=["POST"]),
                Route("/api/v2/pins/{pin_id:int}", self._get_pin, methods=["GET"]),
                Route("/api/v2/user", self._user, methods=["GET"]),
                Route("/api/v2/resources", self._list_resources, methods=["GET"]),
                Route("/api/users", self._shared_users, methods=["GET"]),
                Route("/auth", self._auth_page, methods=["GET"]),
                Route("/auth/", self._auth_page, methods=["GET"]),
                Route("/fake/auth.js", self._auth_script, methods=["GET"]),
                Route("/fake/approve", self._approve_from_page, methods=["POST"]),
            ]
        )
        self._server: ThreadedServer | None = None
        self._lock = threading.Lock()
        self._pin_ids = itertools.count(1272322473)
        self.reset()

    # Lifecycle

    def start(self) -> FakePlexTv:
        if self._server is None:
            self._server = ThreadedServer(self.app, port=self.port).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """No accounts, PINs, friends or resources; healthy; counters at zero."""
        with self._lock:
            self.accounts: dict[str, FakeAccount] = {}
            self.pins: dict[int, FakePin] = {}
            self.pin_lifetime = 1800
            self._shares: dict[str, dict[int, set[str]]] = {}
            self._resources: dict[str, list[dict[str, Any]]] = {}
            self._rate_limited = 0
            self._retry_after: str | None = None
            self._slow_seconds = 0.0
            self._pin_polls = 0
            self._requests: list[RecordedRequest] = []
            self._friends_body: bytes | None = None
            self._follows_forward_url = True

    # State

    def add_account(
        self,
        token: str,
        *,
        id: int,
        username: str,
        email: str | EllipsisType | None = ...,
        thumb: str | EllipsisType | None = ...,
    ) -> FakeAccount:
        """An account signed in with `token`; email and thumb default to plausible values."""
        account = FakeAccount(
            id=id,
            username=username,
            email=f"{username}@example.com" if isinstance(email, EllipsisType) else email,
            thumb=(
                f"https://plex.tv/users/{id:x}/avatar?c=1700000000"
                if isinstance(thumb, EllipsisType)
                else thumb
            ),
            uuid=uuid.uuid5(uuid.NAMESPACE_URL, f"plex:{id}").hex[:16],
        )
        with self._lock:
            self.accounts[token] = account
        return account

    def share(self, owner_token: str, account_id: int, *machine_identifiers: str) -> None:
        """Make `account_id` a friend of the owner with these servers (none: a friend only)."""
        with self._lock:
            friends = self._shares.setdefault(owner_token, {})
            friends.setdefault(account_id, set()).update(machine_identifiers)

    def set_resources(self, token: str, resources: list[dict[str, Any]]) -> None:
        with self._lock:
            self._resources[token] = resources

    def approve(self, pin: int | str, token: str) -> None:
        """Authorise a PIN (by id or code) for the account signed in with `token`."""
        with self._lock:
            self._find_pin(pin).auth_token = token

    def expire(self, pin_id: int) -> None:
        with self._lock:
            self.pins[pin_id].expired = True

    def replace_friends_list(self, body: bytes | None) -> None:
        """Answer `/api/users` with exactly `body` (a payload file's bytes); None undoes it."""
        with self._lock:
            self._friends_body = body

    # Switches

    def rate_limit_next(self, polls: int, *, retry_after: str | None = None) -> None:
        """The next `polls` PIN polls answer 429, with `Retry-After: retry_after` when given."""
        with self._lock:
            self._rate_limited, self._retry_after = polls, retry_after

    def stay_after_approval(self) -> None:
        """The auth page does not follow `forwardUrl` after approval: it stays open."""
        with self._lock:
            self._follows_forward_url = False

    def slow(self, seconds: float = 2.0) -> None:
        """API calls answer after `seconds`, or as soon as the client gives up."""
        with self._lock:
            self._slow_seconds = seconds

    def down(self) -> None:
        self.stop()

    def healthy(self) -> None:
        with self._lock:
            self._slow_seconds = 0.0
            self._rate_limited = 0
        self.start()

    # Observations

    @property
    def pin_polls(self) -> int:
        with self._lock:
            return self._pin_polls

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    # API

    async def _create_pin(self, request: Request) -> Response:
        refused = await self._enter(request)
        if refused is not None:
            return refused
        strong = request.query_params.get("strong") == "true"
        with self._lock:
            pin = FakePin(
                id=next(self._pin_ids),
                code=_strong_code() if strong else _short_code(),
                client_identifier=request.headers["x-plex-client-identifier"],
                created_at=datetime.now(UTC).replace(microsecond=0),
                expires_in=self.pin_lifetime,
            )
            self.pins[pin.id] = pin
            body = _pin_json(pin, request)
        return JSONResponse(body, status_code=201)

    async def _get_pin(self, request: Request) -> Response:
        refused = await self._enter(request)
        if refused is not None:
            return refused
        pin_id = request.path_params["pin_id"]
        client_identifier = request.headers["x-plex-client-identifier"]
        with self._lock:
            self._pin_polls += 1
            if self._rate_limited > 0:
                self._rate_limited -= 1
                headers = {"Retry-After": self._retry_after} if self._retry_after else None
                return JSONResponse(payload("rate_limited.json"), 429, headers=headers)
            pin = self.pins.get(pin_id)
            if pin is None or pin.client_identifier != client_identifier or pin.is_gone():
                return JSONResponse(payload("pin_not_found.json"), status_code=404)
            body = _pin_json(pin, request)
        return JSONResponse(body)

    async def _user(self, request: Request) -> Response:
        refused = await self._enter(request)
        if refused is not None:
            return refused
        token, account = self._signed_in(request)
        if account is None:
            return JSONResponse(payload("unauthorized.json"), status_code=401)
        body = payload("user.json")
        body.update(
            id=account.id,
            uuid=account.uuid,
            username=account.username,
            title=account.username,
            email=account.email,
            thumb=account.thumb,
            authToken=token,
        )
        return JSONResponse(body)

    async def _list_resources(self, request: Request) -> Response:
        refused = await self._enter(request)
        if refused is not None:
            return refused
        token, account = self._signed_in(request)
        if account is None:
            return JSONResponse(payload("unauthorized.json"), status_code=401)
        with self._lock:
            body = copy.deepcopy(self._resources.get(token, []))
        return JSONResponse(body)

    async def _shared_users(self, request: Request) -> Response:
        refused = await self._enter(request)
        if refused is not None:
            return refused
        token, account = self._signed_in(request)
        if account is None:
            return JSONResponse(payload("unauthorized.json"), status_code=401)
        with self._lock:
            friends = {i: set(m) for i, m in self._shares.get(token, {}).items()}
            known = {a.id: a for a in self.accounts.values()}
            body = self._friends_body or _friends_xml(friends, known)
        return Response(body, media_type="text/xml;charset=utf-8")

    async def _enter(self, request: Request) -> Response | None:
        """Record the call, wait when slow; a refusal when the client identifier is missing."""
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    request.method, request.url.path, request.url.query, dict(request.headers)
                )
            )
            seconds = self._slow_seconds
        if seconds:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if await request.is_disconnected():
                    return Response(status_code=499)
                await asyncio.sleep(0.02)
        if not request.headers.get("x-plex-client-identifier"):
            return JSONResponse(payload("client_identifier_missing.json"), status_code=400)
        return None

    def _signed_in(self, request: Request) -> tuple[str, FakeAccount | None]:
        token = request.headers.get("x-plex-token") or request.query_params.get("X-Plex-Token", "")
        with self._lock:
            return token, self.accounts.get(token)

    def _find_pin(self, pin: int | str) -> FakePin:
        if isinstance(pin, int):
            return self.pins[pin]
        return next(p for p in self.pins.values() if p.code == pin)

    # The app.plex.tv page

    async def _auth_page(self, request: Request) -> Response:
        with self._lock:
            accounts = sorted(self.accounts.values(), key=lambda a: a.username.lower())
            follows = "true" if self._follows_forward_url else "false"
        buttons = "\n".join(
            f'<li><button type="button" data-account-id="{a.id}">'
            f"Sign in as {html.escape(a.username)}</button></li>"
            for a in accounts
        )
        page = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Plex</title></head>
<body data-follows-forward-url="{follows}">
<main>
  <h1><span id="product">An app</span> wants to use your Plex account</h1>
  <ul id="accounts">
{buttons}
  </ul>
  <p id="status" role="status"></p>
</main>
<script src="/fake/auth.js"></script>
</body>
</html>"""
        return HTMLResponse(page)

    async def _auth_script(self, request: Request) -> Response:
        return Response(_AUTH_SCRIPT, media_type="text/javascript")

    async def _approve_from_page(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            token = next(
                (t for t, a in self.accounts.items() if a.id == body.get("accountId")), None
            )
            pin = next((p for p in self.pins.values() if p.code == body.get("code")), None)
            if (
                token is None
                or pin is None
                or pin.client_identifier != body.get("clientID")
                or pin.is_gone()
            ):
                return JSONResponse({"approved": False}, status_code=404)
            pin.auth_token = token
        return JSONResponse({"approved": True})


_AUTH_SCRIPT = """\
const params = new URLSearchParams(location.hash.replace(/^#!?\\??/, ""));
const code = params.get("code");
const clientID = params.get("clientID");
const forwardUrl = document.body.dataset.followsForwardUrl === "true" ? params.get("forwardUrl") : null;
const status = document.getElementById("status");
document.getElementById("product").textContent =
  params.get("context[device][product]") || "An app";
if (!code || !clientID) {
  status.textContent = "This sign-in link is missing its code.";
}
for (const button of document.querySelectorAll("button[data-account-id]")) {
  button.addEventListener("click", async () => {
    const response = await fetch("/fake/approve", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({code, clientID, accountId: Number(button.dataset.accountId)}),
    });
    if (!response.ok) {
      status.textContent = "This sign-in has expired. Start again.";
      return;
    }
    document.getElementById("accounts").hidden = true;
    status.textContent = "You can close this window";
    if (forwardUrl) location.assign(forwardUrl);
  });
}
"""


def _strong_code() -> str:
    return "".join(secrets.choice(_STRONG_CODE_ALPHABET) for _ in range(25))


def _short_code() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(4))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _pin_json(pin: FakePin, request: Request) -> dict[str, Any]:
    body: dict[str, Any] = payload("pin.json")
    body.update(
        id=pin.id,
        code=pin.code,
        qr=f"{request.base_url}api/v2/pins/qr/{pin.code}",
        clientIdentifier=pin.client_identifier,
        product=request.headers.get("x-plex-product", body["product"]),
        expiresIn=pin.expires_in,
        createdAt=_iso(pin.created_at),
        expiresAt=_iso(pin.expires_at),
        authToken=pin.auth_token,
    )
    return body


def _friends_xml(friends: dict[int, set[str]], known: dict[int, FakeAccount]) -> bytes:
    """The owner's `/api/users`, each friend shaped like the captured `<User>` and `<Server>`."""
    template = ET.fromstring((PAYLOADS / "users.xml").read_bytes())  # noqa: S314 (our own file)
    user_template = template.find("User")
    assert user_template is not None
    server_template = user_template.find("Server")
    assert server_template is not None
    root = ET.Element("MediaContainer", dict(template.attrib))
    root.set("size", str(len(friends)))
    root.set("totalSize", str(len(friends)))
    for account_id, machine_ids in sorted(friends.items()):
        account = known.get(account_id)
        username = account.username if account else f"user{account_id}"
        user = ET.SubElement(root, "User", dict(user_template.attrib))
        user.set("id", str(account_id))
        user.set("title", username)
        user.set("username", username)
        # Plex Home managed users and some old accounts have no address: the attribute is absent.
        user.attrib.pop("email")
        if account is None or account.email:
            user.set("email", account.email if account and account.email else f"{username}@x.test")
        if account is not None and account.thumb:
            user.set("thumb", account.thumb)
        for number, machine_id in enumerate(sorted(machine_ids), start=1):
            server = ET.SubElement(user, "Server", dict(server_template.attrib))
            server.set("id", str(number))
            server.set("machineIdentifier", machine_id)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)
