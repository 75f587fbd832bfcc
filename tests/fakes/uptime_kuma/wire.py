"""The fake Uptime Kuma's answers, v1 (1.23) or v2 shaped, from the captured ones in
`payloads/uptime_kuma/` (reference/upstream-apis.md §4, and Kuma's `status_page.js`,
`incident.js`, `maintenance.js`, `monitor.js` `toPublicJSON`, `prometheus.js`)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from tests.fakes.uptime_kuma.state import WINDOWS, FakeBeat, FakeMonitor, FakePage, KumaState

PAYLOADS = Path(__file__).parent.parent / "payloads" / "uptime_kuma"

Mode = Literal["v1", "v2"]
TimeFormat = Literal["millis", "seconds", "iso"]
VERSIONS: dict[Mode, str] = {"v1": "1.23.17", "v2": "2.5.3"}
# Beats a status page's heartbeat answer carries per monitor.
BEATS: dict[Mode, int] = {"v1": 50, "v2": 100}


@cache
def _payload_text(name: str) -> str:
    return (PAYLOADS / name).read_text()


def payload(name: str) -> Any:
    """A fresh copy of a captured JSON shape."""
    return copy.deepcopy(json.loads(_payload_text(name)))


def kuma_time(moment: datetime, style: TimeFormat) -> str:
    """As Kuma writes a beat's time: UTC without a zone, milliseconds when stored with them
    (SQLite), or without (`seconds`); newer answers use ISO with a Z (`iso`)."""
    moment = moment.astimezone(UTC)
    if style == "iso":
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}" if style == "millis" else text


def incident(mode: Mode, incident_id: int, title: str, content: str, style: str) -> dict[str, Any]:
    body: dict[str, Any] = payload(f"incident_{mode}.json")
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    body.update(id=incident_id, title=title, content=content, style=style, createdDate=created)
    return body


def maintenance(maintenance_id: int, title: str, description: str) -> dict[str, Any]:
    body: dict[str, Any] = payload("maintenance.json")
    body.update(id=maintenance_id, title=title, description=description)
    return body


def status_page(mode: Mode, state: KumaState, page: FakePage) -> dict[str, Any]:
    config: dict[str, Any] = payload(f"status_page_config_{mode}.json")
    config.update(slug=page.slug, title=page.title, description=page.description)
    groups = [
        {
            "id": group.id,
            "name": group.name,
            "weight": group.weight,
            "monitorList": [
                _public_monitor(state.monitors[monitor_id], send_url)
                for monitor_id, send_url in group.monitors.items()
            ],
        }
        for group in page.groups
    ]
    body: dict[str, Any] = {"config": config}
    if mode == "v1":
        # 1.23 pins one incident at a time: posting one unpins the one before.
        body["incident"] = page.incidents[-1] if page.incidents else None
    else:
        body["incidents"] = list(reversed(page.incidents))  # newest first
    body.update(publicGroupList=groups, maintenanceList=page.maintenance)
    return body


def _public_monitor(monitor: FakeMonitor, send_url: bool) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": monitor.id,
        "name": monitor.name,
        "sendUrl": int(send_url),
        "type": monitor.type,
    }
    if send_url:
        found["url"] = monitor.url
    return found


def heartbeats(
    mode: Mode, state: KumaState, page: FakePage | None, style: TimeFormat
) -> dict[str, Any]:
    """An unknown slug has no monitors, so its answer is empty (Kuma looks up none)."""
    beat_list: dict[str, list[dict[str, Any]]] = {}
    uptime: dict[str, float] = {}
    for monitor_id in page.monitor_ids() if page else []:
        monitor = state.monitors[monitor_id]
        beat_list[str(monitor_id)] = [_beat(b, style) for b in monitor.beats[-BEATS[mode] :]]
        uptime[f"{monitor_id}_24"] = monitor.uptime_in("1d")
    return {"heartbeatList": beat_list, "uptimeList": uptime}


def _beat(beat: FakeBeat, style: TimeFormat) -> dict[str, Any]:
    return {"status": beat.status, "time": kuma_time(beat.at, style), "msg": "", "ping": beat.ping}


def manifest(page: FakePage) -> dict[str, Any]:
    body: dict[str, Any] = payload("manifest.json")
    body.update(name=page.title, start_url=f"/status/{page.slug}")
    return body


# /metrics

_HELP = {
    "monitor_cert_days_remaining": "The number of days remaining until the certificate expires",
    "monitor_cert_is_valid": "Is the certificate still valid? (1 = Yes, 0= No)",
    "monitor_uptime_ratio": "Uptime ratio calculated over sliding window specified by the "
    "'window' label. (0.0 - 1.0)",
    "monitor_response_time_seconds": "Average response time in seconds calculated over sliding "
    "window specified by the 'window' label",
    "monitor_response_time": "Monitor Response Time (ms)",
    "monitor_status": "Monitor Status (1 = UP, 0= DOWN, 2= PENDING, 3= MAINTENANCE)",
}
# In the order Kuma registers its gauges, which is the order prom-client prints them.
_GAUGES: dict[Mode, tuple[str, ...]] = {
    "v1": (
        "monitor_cert_days_remaining",
        "monitor_cert_is_valid",
        "monitor_response_time",
        "monitor_status",
    ),
    "v2": tuple(_HELP),
}


def metrics(mode: Mode, state: KumaState) -> str:
    """Every monitor's gauges (the instance's, not a page's), then Node's process metrics and
    prometheus-api-metrics' own, as Kuma's `/metrics` prints them."""
    samples: dict[str, list[str]] = {name: [] for name in _GAUGES[mode]}
    for monitor in state.monitors.values():
        labels = _labels(mode, monitor)
        if monitor.cert is not None:
            days, valid = monitor.cert
            samples["monitor_cert_days_remaining"].append(f"{{{labels}}} {days}")
            samples["monitor_cert_is_valid"].append(f"{{{labels}}} {int(valid)}")
        if mode == "v2" and monitor.beats:
            for window in WINDOWS:
                windowed = f'{{{labels},window="{window}"}}'
                samples["monitor_uptime_ratio"].append(f"{windowed} {monitor.uptime_in(window)}")
                average = monitor.average_ping() / 1000
                samples["monitor_response_time_seconds"].append(f"{windowed} {average}")
        if monitor.beats:
            last = monitor.beats[-1]
            ping = _number(last.ping) if last.ping is not None else "-1"
            samples["monitor_response_time"].append(f"{{{labels}}} {ping}")
            samples["monitor_status"].append(f"{{{labels}}} {last.status}")
    blocks = [
        "\n".join(
            [f"# HELP {name} {_HELP[name]}", f"# TYPE {name} gauge"]
            + [f"{name}{line}" for line in lines]
        )
        for name, lines in samples.items()
    ]
    major, minor, patch = VERSIONS[mode].split(".")
    process = (
        _payload_text("metrics_process.txt")
        .replace("{version}", VERSIONS[mode])
        .replace("{major}", major)
        .replace("{minor}", minor)
        .replace("{patch}", patch)
    )
    return "\n\n".join([*blocks, process])


def _labels(mode: Mode, monitor: FakeMonitor) -> str:
    values: dict[str, object] = {
        "monitor_name": monitor.name,
        "monitor_type": monitor.type,
        "monitor_url": monitor.url,
        "monitor_hostname": monitor.hostname,
        "monitor_port": monitor.port,
    }
    if mode == "v2":
        values = {"monitor_id": monitor.id, **values}
    # prom-client prints a missing value as the text "null".
    return ",".join(f'{name}="{_escape(value)}"' for name, value in values.items())


def _escape(value: object) -> str:
    text = "null" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
