"""A fake Uptime Kuma on 127.0.0.1, per reference/upstream-apis.md §4 and Kuma's own code.

Served by uvicorn; `FakeUptimeKuma(mode="v2")` answers as Kuma 2.5, `mode="v1"` as 1.23, built
from the captured shapes in `payloads/uptime_kuma/`. Routes: `GET /api/status-page/{slug}`
(v1: the one pinned `incident` or null; v2: `incidents`; an unknown slug is v2's 404
`{"status": "fail", "msg": "Status Page Not Found"}`, while v1 never answers it), `GET
/api/status-page/heartbeat/{slug}` (the latest 100 beats per monitor, v1: 50, oldest first, and
`uptimeList` `"<id>_24"`; an unknown slug has no monitors), `GET
/api/status-page/{slug}/manifest.json` (404 for an unknown slug in both), `GET /metrics`
(Prometheus text behind HTTP Basic, the API key as password, an empty 401 otherwise; v2 adds
`monitor_id` and the uptime and average response gauges by window); anything else is the
single-page app's HTML, as in Kuma. Answers are not cached as Kuma caches them (5 min, 1 min).

Pages and monitors: `add_status_page(slug, title)`, `remove_status_page(slug)`,
`add_monitor(slug, id, name, type="http", url=None, group="Media")` (slug None: only in
`/metrics`), `beat(id, status, ping=None, at=None)` with `DOWN, UP, PENDING, MAINTENANCE`,
`set_uptime(id, ratio)`, `set_cert(id, days)`, `add_incident(slug, title, content)`,
`clear_incidents(slug)`, `add_maintenance(slug, title)`, `populate(slug, monitors=1000,
beats=100)` (a large page, for benchmarks), `set_time_format("millis"|"seconds"|"iso")`.
Key: `api_key` (made at start, `uk1_...`), `set_api_key(key)` (None: authentication disabled).
Switches: `down()` (connections refused), `healthy()`, `slow(seconds)`, `failing(status,
msg, times)`; `reset()` forgets everything. `calls` lists the path of every request.
"""

from tests.fakes.uptime_kuma.server import FakeUptimeKuma, new_api_key
from tests.fakes.uptime_kuma.state import DOWN, MAINTENANCE, PENDING, UP
from tests.fakes.uptime_kuma.wire import VERSIONS

__all__ = ["DOWN", "MAINTENANCE", "PENDING", "UP", "VERSIONS", "FakeUptimeKuma", "new_api_key"]
