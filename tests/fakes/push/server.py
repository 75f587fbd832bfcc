"""The fake push service: endpoints for made-up browsers, each message checked (VAPID header,
RFC 8291 encryption) and opened with that browser's keys, and switches for what it answers."""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.push.crypto import Refused, b64url, decrypt, public_bytes, verify_vapid
from tests.support.server import ThreadedServer


@dataclass
class Browser:
    """A browser's side of one subscription: the keys it made and the endpoint it was given."""

    token: str
    endpoint: str
    key: ec.EllipticCurvePrivateKey
    auth: bytes

    def subscription(self) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives the page."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public_bytes(self.key)), "auth": b64url(self.auth)},
        }


@dataclass(frozen=True)
class Received:
    """One message the fake took for a browser, opened."""

    token: str
    headers: dict[str, str]
    vapid_key: str
    claims: dict[str, Any]
    plaintext: bytes

    @property
    def message(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.plaintext)
        return data


@dataclass
class _State:
    browsers: dict[str, Browser] = field(default_factory=dict)
    answers: dict[str, deque[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


class FakePushService:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _State()
        self._server = ThreadedServer(
            Starlette(routes=[Route("/push/{token}", self._push, methods=["POST"])])
        )
        self.url = self._server.url

    def start(self) -> FakePushService:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        with self._lock:
            self._state = _State()

    def browser(self) -> Browser:
        """A new browser with a subscription on this service."""
        token = secrets.token_urlsafe(16)
        made = Browser(
            token=token,
            endpoint=f"{self.url}/push/{token}",
            key=ec.generate_private_key(ec.SECP256R1()),
            auth=secrets.token_bytes(16),
        )
        with self._lock:
            self._state.browsers[token] = made
        return made

    def answer(self, browser: Browser, *statuses: int) -> None:
        """The next posts to `browser` are answered with `statuses`, in turn (then 201)."""
        with self._lock:
            self._state.answers.setdefault(browser.token, deque()).extend(statuses)

    def forget(self, browser: Browser) -> None:
        """The browser unsubscribed: its endpoint answers 410 Gone from now on."""
        with self._lock:
            self._state.browsers.pop(browser.token, None)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._state.received)

    @property
    def posts(self) -> list[str]:
        """The token of every post, answered or not, in order."""
        with self._lock:
            return list(self._state.posts)

    @property
    def refusals(self) -> list[str]:
        """Why messages that broke the standard were refused (a test expects none)."""
        with self._lock:
            return list(self._state.refusals)

    async def _push(self, request: Request) -> Response:
        token = request.path_params["token"]
        body = await request.body()
        with self._lock:
            self._state.posts.append(token)
            browser = self._state.browsers.get(token)
            queued = self._state.answers.get(token)
            status = queued.popleft() if queued else 201
        if browser is None:
            return Response(status_code=410)
        if status >= 300:
            return Response(status_code=status, headers={"Retry-After": "0"})
        try:
            received = self._open(request, token, body, browser)
        except Refused as exc:
            with self._lock:
                self._state.refusals.append(str(exc))
            return Response(str(exc), status_code=400)
        with self._lock:
            self._state.received.append(received)
        return Response(status_code=201, headers={"Location": f"{self.url}/message/{token}"})

    def _open(self, request: Request, token: str, body: bytes, browser: Browser) -> Received:
        if request.headers.get("content-encoding") != "aes128gcm":
            raise Refused("Content-Encoding is not aes128gcm")
        if not request.headers.get("ttl", "").isdigit():
            raise Refused("no TTL header")
        vapid = verify_vapid(request.headers.get("authorization"), audience=self.url)
        plaintext = decrypt(body, browser.key, browser.auth)
        return Received(token, dict(request.headers), vapid.key, vapid.claims, plaintext)
