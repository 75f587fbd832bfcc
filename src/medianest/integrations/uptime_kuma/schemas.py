"""Uptime Kuma's answers, as MediaNest reads them (reference/upstream-apis.md §4).

Two generations answer differently and are told apart by shape: a v1 (1.23) status page carries
its one pinned incident as `incident` (an object or null), a v2 one lists them as `incidents`; v2
metrics carry a `monitor_id` label and uptime and average response gauges per `window`. Both are
read into the same models, `StatusPage.generation` and `MetricsSnapshot.generation` saying which
answered.

Parsed leniently, as for every upstream: unknown fields are ignored, missing ones take defaults,
and an entry of a list that cannot be read (a monitor without an id, a beat with a status Kuma
never had) is left out rather than failing the whole answer. `StatusPage.read` and
`Heartbeats.read` do that: an answer is read in one go by pydantic itself, and only one that
fails is read again entry by entry (a large page holds a thousand monitors, 100,000 beats).
"""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

M = TypeVar("M", bound=BaseModel)

ServiceState = Literal["up", "down", "degraded", "maintenance"]
Generation = Literal[1, 2]

# The sliding windows of v2's `monitor_uptime_ratio` and `monitor_response_time_seconds`.
DAY, MONTH, YEAR = "1d", "30d", "365d"


class MonitorStatus(enum.IntEnum):
    """A beat's (and a monitor's) status, by Kuma's numbers (`src/util.ts`)."""

    DOWN = 0
    UP = 1
    PENDING = 2
    MAINTENANCE = 3

    @property
    def state(self) -> ServiceState:
        """What MediaNest shows: PENDING is Kuma retrying a failed check before it calls the
        monitor down, so the service is degraded rather than down (or up)."""
        return _STATES[self]


_STATES: dict[MonitorStatus, ServiceState] = {
    MonitorStatus.DOWN: "down",
    MonitorStatus.UP: "up",
    MonitorStatus.PENDING: "degraded",
    MonitorStatus.MAINTENANCE: "maintenance",
}


def _as_utc(moment: datetime) -> datetime:
    # Kuma writes UTC without a zone: `YYYY-MM-DD HH:mm:ss`, with or without `.SSS`.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def kuma_time(value: object) -> datetime:
    """A time of Kuma's as an aware UTC datetime: its own zone-less UTC, or ISO (some answers
    end in `Z`). Raises `ValueError` for anything else."""
    if isinstance(value, datetime):
        return _as_utc(value)
    if isinstance(value, str) and len(value.strip()) >= len("YYYY-MM-DD HH:mm:ss"):
        return _as_utc(datetime.fromisoformat(value.strip()))
    raise ValueError("not a time of Uptime Kuma's")


def _time_or_none(value: object) -> datetime | None:
    # Dates beside the status (when an incident was posted) are shown, never computed with:
    # one Kuma wrote oddly is left out.
    try:
        return kuma_time(value)
    except ValueError:
        return None


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


LooseTime = Annotated[datetime | None, BeforeValidator(_time_or_none)]
LooseText = Annotated[str | None, BeforeValidator(_blank_is_none)]


def _readable(model: type[M], value: object) -> list[M]:
    """The entries of a list that read as `model`; anything but a list reads as none."""
    if not isinstance(value, list):
        return []
    kept: list[M] = []
    for item in value:
        try:
            kept.append(model.model_validate(item))
        except ValidationError:
            continue
    return kept


class Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


# GET /api/status-page/{slug}


class StatusPageConfig(Wire):
    slug: str
    title: str
    description: LooseText = None
    icon: LooseText = None
    auto_refresh_interval: int | None = None  # seconds; v2 only
    published: bool = True
    show_certificate_expiry: bool = False


class Monitor(Wire):
    """A monitor as a status page publishes it: `url` only when the page is set to show it."""

    id: int
    name: str
    type: str | None = None
    url: LooseText = None
    send_url: bool = False
    cert_expiry_days_remaining: int | None = None
    valid_cert: bool | None = None


class MonitorGroup(Wire):
    id: int | None = None
    name: str = ""
    weight: int | None = None
    monitors: tuple[Monitor, ...] = Field(default=(), alias="monitorList")


class Incident(Wire):
    """A pinned incident message on a status page; `style` is Kuma's colour for it (info,
    warning, danger, primary, light, dark)."""

    id: int | None = None
    style: str | None = None
    title: LooseText = None
    content: LooseText = None
    created_date: LooseTime = None
    last_updated_date: LooseTime = None


class Maintenance(Wire):
    """A maintenance window the status page's monitors are in now (Kuma lists only those)."""

    id: int | None = None
    title: str = ""
    description: LooseText = None
    strategy: str | None = None
    status: str | None = None


class StatusPage(Wire):
    generation: Generation
    config: StatusPageConfig
    incidents: tuple[Incident, ...] = ()
    groups: tuple[MonitorGroup, ...] = Field(default=(), alias="publicGroupList")
    maintenance: tuple[Maintenance, ...] = Field(default=(), alias="maintenanceList")

    @classmethod
    def read(cls, body: bytes | str) -> StatusPage:
        """Raises `ValueError` (pydantic's `ValidationError` among them) for an answer that is
        no status page: not JSON, or without a `config`."""
        try:
            return cls.model_validate_json(body)
        except ValidationError:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise
            return cls.model_validate(_readable_page(_one_incident_shape(data)))

    @model_validator(mode="before")
    @classmethod
    def _incident_shapes(cls, data: Any) -> Any:
        return _one_incident_shape(data) if isinstance(data, dict) else data

    @property
    def title(self) -> str:
        return self.config.title

    @property
    def monitors(self) -> list[Monitor]:
        """Every monitor of the page, in the page's order, each once."""
        seen: set[int] = set()
        found: list[Monitor] = []
        for group in self.groups:
            for monitor in group.monitors:
                if monitor.id not in seen:
                    seen.add(monitor.id)
                    found.append(monitor)
        return found


def _one_incident_shape(data: dict[str, Any]) -> dict[str, Any]:
    # v1 answers its one pinned incident (or null) as `incident`, v2 a list as `incidents`.
    if "generation" in data:
        return data
    if "incidents" in data:
        return {**data, "generation": 2}
    incident = data.get("incident")
    return {**data, "generation": 1, "incidents": [incident] if incident else []}


def _readable_page(data: dict[str, Any]) -> dict[str, Any]:
    groups: list[MonitorGroup] = []
    for group in data.get("publicGroupList") or []:
        if isinstance(group, dict):
            monitors = _readable(Monitor, group.get("monitorList"))
            groups += _readable(MonitorGroup, [{**group, "monitorList": monitors}])
    return {
        **data,
        "incidents": _readable(Incident, data.get("incidents")),
        "publicGroupList": groups,
        "maintenanceList": _readable(Maintenance, data.get("maintenanceList")),
    }


# GET /api/status-page/heartbeat/{slug}


class Beat(Wire):
    """One check of a monitor; `ping` is the response time in ms, None when there was none."""

    status: MonitorStatus
    # As Kuma wrote it, parsed by pydantic itself (it reads both of Kuma's forms and ISO); the
    # zone is added when `time` is read, not for each of a large page's 100,000 beats, where a
    # Python call per beat costs as much as the rest of the parsing.
    written: datetime = Field(alias="time", repr=False)
    ping: float | None = None

    @property
    def time(self) -> datetime:
        """When the check ran, an aware UTC time."""
        return _as_utc(self.written)


def _readable_beats(value: object) -> dict[int, list[Beat]]:
    if not isinstance(value, dict):
        return {}
    beats: dict[int, list[Beat]] = {}
    for key, items in value.items():
        try:
            monitor_id = int(key)
        except (TypeError, ValueError):
            continue
        # Newer Kuma answers a bar slot without data as a bare 0: not a beat.
        beats[monitor_id] = _readable(Beat, items)
    return beats


def _uptime_by_monitor(value: object) -> dict[int, float]:
    """`{"3_24": 0.99}` (24 h, by monitor id) as `{3: 0.99}`; newer Kuma keys by the id alone."""
    if not isinstance(value, dict):
        return {}
    found: dict[int, float] = {}
    for key, ratio in value.items():
        monitor, _, hours = str(key).partition("_")
        if hours not in ("", "24") or not monitor.isdigit():
            continue
        if isinstance(ratio, int | float) and not isinstance(ratio, bool) and ratio >= 0:
            # Rounding can carry a ratio a hair past 1; NaN fails the comparison and is left out.
            found[int(monitor)] = min(float(ratio), 1.0)
    return found


class Heartbeats(Wire):
    """Each public monitor's latest beats, oldest first (Kuma sends 100; 1.23 sends 50), and
    its uptime over the last 24 hours as a ratio 0..1."""

    beats: dict[int, tuple[Beat, ...]] = Field(alias="heartbeatList")
    uptime_24h: Annotated[dict[int, float], BeforeValidator(_uptime_by_monitor)] = Field(
        default_factory=dict, alias="uptimeList"
    )

    @classmethod
    def read(cls, body: bytes | str) -> Heartbeats:
        """Raises `ValueError` (pydantic's `ValidationError` among them) for an answer that is
        not Kuma's heartbeats: not JSON, or without a `heartbeatList`."""
        try:
            return cls.model_validate_json(body)
        except ValidationError:
            data = json.loads(body)
            if not isinstance(data, dict) or "heartbeatList" not in data:
                raise
            beats = _readable_beats(data["heartbeatList"])
            return cls.model_validate({**data, "heartbeatList": beats})

    def of(self, monitor_id: int) -> tuple[Beat, ...]:
        return self.beats.get(monitor_id, ())

    def latest(self, monitor_id: int) -> Beat | None:
        beats = self.beats.get(monitor_id)
        return beats[-1] if beats else None


# GET /metrics


class MonitorMetrics(BaseModel):
    """One monitor's gauges. v1 names a monitor only by its labels (no `monitor_id`) and has no
    `uptime` or `average_response_ms`; `response_time_ms` is None when the last check had none."""

    model_config = ConfigDict(frozen=True)

    monitor_id: int | None = None
    name: str | None = None
    type: str | None = None
    url: str | None = None
    hostname: str | None = None
    port: int | None = None
    status: MonitorStatus | None = None
    response_time_ms: float | None = None
    uptime: dict[str, float] = Field(default_factory=dict)
    """Ratio 0..1 by window (`DAY`, `MONTH`, `YEAR`)."""
    average_response_ms: dict[str, float] = Field(default_factory=dict)
    """Average response time by window."""
    cert_days_remaining: int | None = None
    cert_valid: bool | None = None


class MetricsSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str | None = None
    """Kuma's own version (`app_version`), when its metrics carry it."""
    monitors: tuple[MonitorMetrics, ...] = ()

    _by_id: dict[int, MonitorMetrics] = PrivateAttr(default_factory=dict)
    _by_name: dict[str, MonitorMetrics | None] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        for monitor in self.monitors:
            if monitor.monitor_id is not None:
                self._by_id[monitor.monitor_id] = monitor
            if monitor.name is not None:
                # Two monitors of one name cannot be told apart by it: neither is found.
                self._by_name[monitor.name] = None if monitor.name in self._by_name else monitor

    @property
    def generation(self) -> Generation:
        if self._by_id:
            return 2
        major = (self.version or "").partition(".")[0]
        return 2 if major.isdigit() and int(major) >= 2 else 1

    def by_id(self, monitor_id: int) -> MonitorMetrics | None:
        return self._by_id.get(monitor_id)

    def by_name(self, name: str) -> MonitorMetrics | None:
        """The one monitor of that name (v1's only handle); None when none or several."""
        return self._by_name.get(name)

    def find(self, monitor_id: int, name: str) -> MonitorMetrics | None:
        """A status page's monitor among these: by id (v2), else by its unique name (v1)."""
        if self._by_id:
            return self._by_id.get(monitor_id)
        return self.by_name(name)
