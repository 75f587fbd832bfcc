"""A fake Overseerr (or Seerr) on 127.0.0.1, API under `/api/v1`, per reference/upstream-apis.md §3.

Served by uvicorn; the answers, messages and quirks follow Overseerr's code (see `state.py` for
the request rules and `openapi.py` for the validator in front of every route), built from the
captured shapes in `payloads/overseerr/`. `FakeOverseerr(flavour="seerr")` answers as Seerr 3.1
instead: `mediaServerType` in `/settings/public`, the extra request filters and enum values.

Catalogue (the TMDB titles it serves): ≥30 movies and ≥10 series by default; `add_movie(...)`,
`add_show(..., seasons={1: 10})`. Users: user 1 is the owner (ADMIN, Plex); `add_user(...) -> id`,
`allow_plex_import(plex_id, username)` (a Plex friend `import-from-plex` may create),
`set_quota(user_id, "movie"|"tv", limit, days=7)`, `set_permissions(user_id, bits)`.
Requests and media: `requests`, `request_by_id(id)`, `set_request_status(id, status)`,
`set_media_status(tmdb_id, media_type, status, is4k=, seasons={n: status})`; `mediaInfo`
appears on results only for titles that have a media row (a request or a status set).
Webhooks: `configure_webhook(url, authorization)`, `webhook_body(type, request_id)`,
`send_webhook(type, request_id) -> status`, `auto_webhooks(True)` (request events post their
webhook on a background thread; `wait_for_webhooks()`, `webhook_deliveries`).
Switches: `down()` (connections refused), `healthy()`, `slow(seconds)`,
`failing(status, times=None)`; `reset()` forgets all but the owner and the default catalogue.
`calls` records every call (method, path, raw query, headers, JSON body).
"""

from tests.fakes.overseerr.api import RecordedCall
from tests.fakes.overseerr.constants import (
    ADMIN,
    AUTO_APPROVE,
    AUTO_APPROVE_MOVIE,
    AUTO_APPROVE_TV,
    MANAGE_REQUESTS,
    MANAGE_USERS,
    REQUEST,
    REQUEST_4K,
    REQUEST_4K_MOVIE,
    REQUEST_4K_TV,
    REQUEST_MOVIE,
    REQUEST_TV,
)
from tests.fakes.overseerr.records import FakeRequest
from tests.fakes.overseerr.server import FakeOverseerr, WebhookDelivery

__all__ = [
    "ADMIN",
    "AUTO_APPROVE",
    "AUTO_APPROVE_MOVIE",
    "AUTO_APPROVE_TV",
    "MANAGE_REQUESTS",
    "MANAGE_USERS",
    "REQUEST",
    "REQUEST_4K",
    "REQUEST_4K_MOVIE",
    "REQUEST_4K_TV",
    "REQUEST_MOVIE",
    "REQUEST_TV",
    "FakeOverseerr",
    "FakeRequest",
    "RecordedCall",
    "WebhookDelivery",
]
