"""The fake Overseerr/Seerr server: its HTTP surface, switches, call log and webhooks."""

from __future__ import annotations

import queue
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from starlette.applications import Starlette

from tests.fakes.overseerr import constants as c
from tests.fakes.overseerr.api import ApiRoutes, RecordedCall
from tests.fakes.overseerr.catalogue import MediaType, movie, show
from tests.fakes.overseerr.records import FakeRequest
from tests.fakes.overseerr.state import Flavour, OverseerrState
from tests.fakes.overseerr.webhook import (
    Notification,
    button_test_notification,
    render,
    request_notification,
)
from tests.support.server import ThreadedServer, free_port

VERSIONS = {"overseerr": "1.34.0", "seerr": "3.1.0"}


@dataclass(frozen=True)
class WebhookDelivery:
    notification_type: str
    body: dict[str, Any]
    status: int | None
    error: str | None = None


class FakeOverseerr(ApiRoutes):
    def __init__(
        self, flavour: Literal["overseerr", "seerr"] = "overseerr", api_key: str | None = None
    ) -> None:
        self.flavour: Flavour = flavour
        self.version = VERSIONS[flavour]
        self.api_key = api_key or secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._state = OverseerrState(flavour)
        self._lock = threading.RLock()
        self._server: ThreadedServer | None = None
        self._outgoing: queue.Queue[Notification] = queue.Queue()
        self._worker: threading.Thread | None = None
        self.app = Starlette(routes=self._routes())
        self._reset_switches()

    # Lifecycle

    def start(self) -> FakeOverseerr:
        if self._server is None:
            self._server = ThreadedServer(self.app, port=self.port).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Forget requests, media rows, users but the owner, friends, quotas, added titles, the
        webhook, the call log and every switch (a stopped server stays stopped)."""
        self.wait_for_webhooks()
        with self._lock:
            self._state.reset()
            self._reset_switches()

    def _reset_switches(self) -> None:
        with self._lock:
            self._slow_seconds = 0.0
            self._failing: tuple[int, int | None] | None = None
            self._calls: list[RecordedCall] = []
            self._webhook_url: str | None = None
            self._webhook_authorization: str | None = None
            self._auto_webhooks = False
            self._deliveries: list[WebhookDelivery] = []

    # Catalogue

    def add_movie(
        self,
        tmdb_id: int,
        title: str,
        *,
        year: int = 2020,
        overview: str | None = None,
        poster_path: str | None = None,
        runtime: int = 100,
        popularity: float = 10.0,
        release_date: str | None = None,
    ) -> None:
        with self._lock:
            self._state.add_title(
                movie(
                    tmdb_id,
                    title,
                    year=year,
                    overview=overview,
                    poster_path=poster_path,
                    runtime=runtime,
                    popularity=popularity,
                    release_date=release_date,
                )
            )

    def add_show(
        self,
        tmdb_id: int,
        name: str,
        *,
        seasons: dict[int, int] | None = None,
        tvdb_id: int | None = None,
        year: int = 2020,
        overview: str | None = None,
        poster_path: str | None = None,
        popularity: float = 10.0,
    ) -> None:
        """A series; `seasons` maps season number to episode count (default `{1: 10}`)."""
        with self._lock:
            self._state.add_title(
                show(
                    tmdb_id,
                    name,
                    seasons=seasons,
                    tvdb_id=tvdb_id,
                    year=year,
                    overview=overview,
                    poster_path=poster_path,
                    popularity=popularity,
                )
            )

    # Users

    def add_user(
        self,
        display_name: str,
        *,
        plex_id: int | None = None,
        permissions: int = c.REQUEST,
        user_type: int = c.PLEX_USER,
        email: str | None = None,
    ) -> int:
        """A user; for a Plex user (type 1) the name is `plexUsername` and `username` is null,
        for a local one (type 2) it is `username`. Returns the Overseerr user id."""
        with self._lock:
            return self._state.add_user(
                display_name,
                plex_id=plex_id,
                permissions=permissions,
                user_type=user_type,
                email=email,
            )

    def allow_plex_import(self, plex_id: int, username: str, email: str | None = None) -> None:
        """A Plex friend of the owner, with server access, that `import-from-plex` may create.
        Overseerr skips friends without an email: pass `email=""` for one."""
        with self._lock:
            address = f"{username.lower()}@example.com" if email is None else email
            self._state.plex_friends[plex_id] = (username, address)

    def set_quota(
        self, user_id: int, media_type: MediaType, limit: int | None, *, days: int = 7
    ) -> None:
        """At most `limit` movie requests (or TV seasons) per `days`; past it POST /request is 403."""
        with self._lock:
            self._state.set_quota(user_id, media_type, limit, days)

    def set_permissions(self, user_id: int, permissions: int) -> None:
        with self._lock:
            self._state.users[user_id].permissions = permissions

    # Requests and media

    @property
    def requests(self) -> list[FakeRequest]:
        with self._lock:
            return list(self._state.requests.values())

    def request_by_id(self, request_id: int) -> FakeRequest:
        with self._lock:
            return self._state.requests[request_id]

    def set_request_status(self, request_id: int, status: int) -> None:
        """1 pending, 2 approved, 3 declined, 4 failed (Seerr: 5 completed), as an admin or the
        download sync would set it: media status and webhooks follow as in Overseerr."""
        with self._lock:
            request = self._state.requests[request_id]
            self._state.change_status(request, status, request.modified_by)
        self._flush()

    def set_media_status(
        self,
        tmdb_id: int,
        media_type: MediaType,
        status: int,
        *,
        is4k: bool = False,
        seasons: dict[int, int] | None = None,
    ) -> None:
        """A media row's status (1..5, Seerr also 6 blocklisted, 7 deleted), as the Plex or
        *arr syncs would set it; for TV, `seasons` maps season number to status."""
        with self._lock:
            self._state.set_media_status(media_type, tmdb_id, status, is4k=is4k, seasons=seasons)
        self._flush()

    # Webhooks

    def configure_webhook(self, url: str, authorization: str | None = None) -> None:
        """Where webhooks go; `authorization` is sent verbatim as the Authorization header."""
        with self._lock:
            self._webhook_url, self._webhook_authorization = url, authorization

    def auto_webhooks(self, on: bool = True) -> None:
        """Post the webhook for each request event as it happens, as a real Overseerr does."""
        with self._lock:
            self._auto_webhooks = on

    def webhook_body(
        self,
        notification_type: str,
        request_id: int | None = None,
        *,
        tmdb_id: int | None = None,
        media_type: MediaType | None = None,
    ) -> dict[str, Any]:
        """The default template rendered for a request (or a title, or nothing: TEST)."""
        with self._lock:
            return render(self._notification(notification_type, request_id, tmdb_id, media_type))

    def send_webhook(
        self,
        notification_type: str,
        request_id: int | None = None,
        *,
        tmdb_id: int | None = None,
        media_type: MediaType | None = None,
    ) -> int:
        """Post a webhook now; the status the receiver answered, or ConnectionError."""
        with self._lock:
            notification = self._notification(notification_type, request_id, tmdb_id, media_type)
        delivery = self._post_webhook(notification)
        if delivery.status is None:
            raise ConnectionError(delivery.error)
        return delivery.status

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._deliveries)

    def wait_for_webhooks(self, timeout: float = 5.0) -> None:
        """Return once every automatic webhook queued so far has been posted."""
        deadline = time.monotonic() + timeout
        while self._outgoing.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _notification(
        self,
        kind: str,
        request_id: int | None,
        tmdb_id: int | None,
        media_type: MediaType | None,
    ) -> Notification:
        state = self._state
        if request_id is not None:
            request = state.requests[request_id]
            title = state.titles[(request.media_type, request.tmdb_id)]
            media = state.media[(title.media_type, title.tmdb_id)]
            return state.notification(kind, title, media, request)
        if tmdb_id is not None and media_type is not None:
            row = state.media.get((media_type, tmdb_id))
            return request_notification(
                kind, state.title(media_type, tmdb_id), media=row, request=None, requested_by=None
            )
        notification = button_test_notification()
        notification.notification_type = kind
        return notification

    def _flush(self) -> None:
        """Hand the notifications the last operation produced to the delivery thread."""
        with self._lock:
            pending, self._state.outbox = self._state.outbox, []
            if not (self._auto_webhooks and self._webhook_url):
                return
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._deliver_forever, daemon=True)
                self._worker.start()
        for notification in pending:
            self._outgoing.put(notification)

    def _deliver_forever(self) -> None:
        while True:
            notification = self._outgoing.get()
            try:
                self._post_webhook(notification)
            finally:
                self._outgoing.task_done()

    def _post_webhook(self, notification: Notification) -> WebhookDelivery:
        with self._lock:
            url, authorization = self._webhook_url, self._webhook_authorization
        if url is None:
            raise RuntimeError("configure_webhook(url) first")
        body = render(notification)
        headers = {"Authorization": authorization} if authorization else {}
        try:
            answer = httpx.post(url, json=body, headers=headers, timeout=10.0)
            delivery = WebhookDelivery(notification.notification_type, body, answer.status_code)
        except httpx.HTTPError as exc:
            delivery = WebhookDelivery(notification.notification_type, body, None, repr(exc))
        with self._lock:
            self._deliveries.append(delivery)
        return delivery

    # Switches

    def down(self) -> None:
        """Stop listening: connections are refused until `healthy()`."""
        self.stop()

    def healthy(self) -> None:
        """Answer normally again, listening on the same port."""
        with self._lock:
            self._slow_seconds = 0.0
            self._failing = None
        self.start()

    def slow(self, seconds: float = 2.0) -> None:
        """Every answer waits `seconds`, or until the client gives up."""
        with self._lock:
            self._slow_seconds = seconds

    def failing(self, status: int = 500, times: int | None = None) -> None:
        """Answer `status` to every call; with `times`, only the next `times` calls."""
        with self._lock:
            self._failing = (status, times)

    # Observations

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)
