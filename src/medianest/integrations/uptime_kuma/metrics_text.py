"""Reading Uptime Kuma's `/metrics` (Prometheus text) into a `MetricsSnapshot`.

Only Kuma's own families are kept: the answer also holds Node's process metrics and the HTTP
histograms of prometheus-api-metrics, which say nothing about monitors. They go through
prometheus_client's text parser in one piece, and line by line when that fails, so a line Kuma
printed oddly costs that line only. A label Kuma had no value for prints as "null" (or
"undefined", or nothing) and is read as absent; a response time of -1 means no response.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from medianest.integrations.uptime_kuma.schemas import (
    MetricsSnapshot,
    MonitorMetrics,
    MonitorStatus,
)

STATUS = "monitor_status"
RESPONSE_TIME = "monitor_response_time"
AVERAGE_RESPONSE = "monitor_response_time_seconds"  # v2, by window
UPTIME = "monitor_uptime_ratio"  # v2, by window
CERT_DAYS = "monitor_cert_days_remaining"
CERT_VALID = "monitor_cert_is_valid"
APP_VERSION = "app_version"
_FAMILIES = frozenset({STATUS, RESPONSE_TIME, AVERAGE_RESPONSE, UPTIME, CERT_DAYS, CERT_VALID})
_KEPT = _FAMILIES | {APP_VERSION}

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_ABSENT = frozenset({"", "null", "undefined"})
# What names a monitor in v1, which has no `monitor_id`.
_IDENTITY = ("monitor_name", "monitor_type", "monitor_url", "monitor_hostname", "monitor_port")
_PARSE_ERRORS = (ValueError, IndexError, KeyError, TypeError)
_STATUSES = {status.value: status for status in MonitorStatus}


class NotKumaMetrics(ValueError):
    """The text declares none of Uptime Kuma's monitor gauges: whatever answered is not Kuma."""


def parse_metrics(text: str) -> MetricsSnapshot:
    """Raises `NotKumaMetrics`. A Kuma without monitors still declares `monitor_status`."""
    lines, declared = _kuma_lines(text)
    if STATUS not in declared:
        raise NotKumaMetrics("no monitor_status family")
    version: str | None = None
    monitors: dict[tuple[object, ...], _Monitor] = {}
    for sample in _samples(lines):
        if sample.name == APP_VERSION:
            version = _label(sample.labels, "version") or version
            continue
        key = _key(sample.labels)
        monitor = monitors.get(key)
        if monitor is None:
            monitor = monitors[key] = _Monitor(sample.labels)
        monitor.take(sample)
    return MetricsSnapshot(version=version, monitors=tuple(m.build() for m in monitors.values()))


def _kuma_lines(text: str) -> tuple[list[str], set[str]]:
    """Kuma's own lines (its HELP, TYPE and samples), and the families they name."""
    kept: list[str] = []
    declared: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE") and parts[2] in _KEPT:
                kept.append(line)
                declared.add(parts[2])
            continue
        name = _NAME.match(line)
        if name is not None and name.group(0) in _KEPT:
            kept.append(line)
            declared.add(name.group(0))
    return kept, declared


def _samples(lines: list[str]) -> list[Sample]:
    try:
        return [
            sample
            for family in text_string_to_metric_families("\n".join(lines) + "\n")
            for sample in family.samples
        ]
    except _PARSE_ERRORS:
        pass
    samples: list[Sample] = []
    for line in lines:
        if line.startswith("#"):
            continue
        try:
            for family in text_string_to_metric_families(line + "\n"):
                samples.extend(family.samples)
        except _PARSE_ERRORS:
            continue
    return samples


def _label(labels: dict[str, str], name: str) -> str | None:
    value = labels.get(name)
    return None if value is None or value.strip() in _ABSENT else value


def _whole(labels: dict[str, str], name: str) -> int | None:
    value = _label(labels, name)
    return int(value) if value is not None and value.strip().isdigit() else None


def _key(labels: dict[str, str]) -> tuple[object, ...]:
    monitor_id = _whole(labels, "monitor_id")
    if monitor_id is not None:
        return ("id", monitor_id)
    return ("labels", *(_label(labels, name) for name in _IDENTITY))


@dataclass
class _Monitor:
    labels: dict[str, str]
    status: MonitorStatus | None = None
    response_time_ms: float | None = None
    uptime: dict[str, float] = field(default_factory=dict)
    average_response_ms: dict[str, float] = field(default_factory=dict)
    cert_days_remaining: int | None = None
    cert_valid: bool | None = None

    def take(self, sample: Sample) -> None:
        value = float(sample.value)
        if not math.isfinite(value):
            return
        name = sample.name
        if name == STATUS:
            self.status = _STATUSES.get(int(value)) if value.is_integer() else None
        elif name == RESPONSE_TIME:
            self.response_time_ms = value if value >= 0 else None
        elif name == CERT_DAYS:
            self.cert_days_remaining = round(value)
        elif name == CERT_VALID:
            self.cert_valid = value == 1
        else:
            window = _label(sample.labels, "window")
            if window is None or value < 0:
                return
            if name == UPTIME:
                self.uptime[window] = min(value, 1.0)
            elif name == AVERAGE_RESPONSE:
                self.average_response_ms[window] = value * 1000

    def build(self) -> MonitorMetrics:
        labels = self.labels
        return MonitorMetrics(
            monitor_id=_whole(labels, "monitor_id"),
            name=_label(labels, "monitor_name"),
            type=_label(labels, "monitor_type"),
            url=_label(labels, "monitor_url"),
            hostname=_label(labels, "monitor_hostname"),
            port=_whole(labels, "monitor_port"),
            status=self.status,
            response_time_ms=self.response_time_ms,
            uptime=self.uptime,
            average_response_ms=self.average_response_ms,
            cert_days_remaining=self.cert_days_remaining,
            cert_valid=self.cert_valid,
        )
