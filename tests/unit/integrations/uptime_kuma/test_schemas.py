"""Reading Uptime Kuma's status page and heartbeat answers, both generations, leniently."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from medianest.integrations.uptime_kuma.schemas import (
    Heartbeats,
    MonitorStatus,
    StatusPage,
    kuma_time,
)

CONFIG = {"slug": "home", "title": "Home services", "description": None, "icon": "/icon.svg"}
GROUPS = [
    {
        "id": 1,
        "name": "Media",
        "weight": 1,
        "monitorList": [
            {"id": 3, "name": "Plex", "sendUrl": 0, "type": "http"},
            {
                "id": 4,
                "name": "Overseerr",
                "sendUrl": 1,
                "type": "http",
                "url": "https://r.example",
            },
        ],
    }
]
INCIDENT = {
    "id": 7,
    "style": "danger",
    "title": "Disk failure",
    "content": "Plex is read-only.",
    "createdDate": "2025-06-01 12:00:00",
    "lastUpdatedDate": None,
}


def page(**body: Any) -> StatusPage:
    answer = {"config": CONFIG, "publicGroupList": GROUPS, "maintenanceList": [], **body}
    return StatusPage.read(json.dumps(answer))


def heartbeats(beats: dict[str, Any], uptime: dict[str, Any] | None = None) -> Heartbeats:
    answer = {"heartbeatList": beats, "uptimeList": uptime or {}}
    return Heartbeats.read(json.dumps(answer))


class TestStatusPage:
    def test_v2_lists_its_incidents(self) -> None:
        second = {**INCIDENT, "id": 8, "title": "Overseerr restarting"}

        found = page(incidents=[second, INCIDENT])

        assert found.generation == 2
        assert [i.title for i in found.incidents] == ["Overseerr restarting", "Disk failure"]
        assert found.incidents[1].created_date == datetime(2025, 6, 1, 12, tzinfo=UTC)

    def test_v1_carries_its_one_pinned_incident(self) -> None:
        found = page(incident={**INCIDENT, "pin": 1})

        assert found.generation == 1
        assert [(i.id, i.style, i.content) for i in found.incidents] == [
            (7, "danger", "Plex is read-only.")
        ]

    def test_v1_without_an_incident_has_none(self) -> None:
        found = page(incident=None)

        assert (found.generation, found.incidents) == (1, ())

    def test_monitors_by_group_with_a_url_only_where_the_page_shows_it(self) -> None:
        found = page(incidents=[])

        assert found.title == "Home services"
        assert [(m.id, m.name, m.url) for m in found.monitors] == [
            (3, "Plex", None),
            (4, "Overseerr", "https://r.example"),
        ]
        assert found.groups[0].name == "Media"

    def test_a_monitor_in_two_groups_is_listed_once(self) -> None:
        twice = [*GROUPS, {"id": 2, "name": "Again", "monitorList": GROUPS[0]["monitorList"][:1]}]

        found = page(incidents=[], publicGroupList=twice)

        assert [m.id for m in found.monitors] == [3, 4]

    def test_an_unreadable_monitor_is_left_out_and_the_rest_kept(self) -> None:
        broken = [
            {
                "id": 1,
                "name": "Media",
                "monitorList": [{"name": "no id"}, {"id": 5, "name": "Tautulli"}, 0],
            }
        ]

        found = page(incident={"title": "no id is fine"}, publicGroupList=broken)

        assert [m.name for m in found.monitors] == ["Tautulli"]
        # Read again entry by entry, it is still the v1 page it was.
        assert (found.generation, found.incidents[0].title) == (1, "no id is fine")

    def test_an_unreadable_incident_is_left_out(self) -> None:
        found = page(incidents=[{"title": ["not", "text"]}, INCIDENT])

        assert (found.generation, [i.id for i in found.incidents]) == (2, [7])

    def test_maintenance_in_progress_is_read(self) -> None:
        window = {
            "id": 2,
            "title": "Disk swap",
            "description": "",
            "strategy": "manual",
            "status": "under-maintenance",
        }

        found = page(incidents=[], maintenanceList=[window])

        assert [(m.title, m.description, m.status) for m in found.maintenance] == [
            ("Disk swap", None, "under-maintenance")
        ]

    @pytest.mark.parametrize("body", [b'{"ok": true}', b"[]", b"<html></html>", b""])
    def test_an_answer_without_a_config_is_not_a_status_page(self, body: bytes) -> None:
        with pytest.raises(ValueError, match=r"validation error|Expecting value"):
            StatusPage.read(body)


class TestHeartbeats:
    def test_times_with_and_without_milliseconds_and_iso_are_utc(self) -> None:
        found = heartbeats(
            {
                "3": [
                    {"status": 1, "time": "2025-06-01 12:00:00", "msg": "", "ping": 40},
                    {"status": 1, "time": "2025-06-01 12:01:00.123", "msg": "", "ping": 41},
                    {"status": 1, "time": "2025-06-01T12:02:00.000Z", "msg": "", "ping": 42},
                ]
            }
        )

        assert [b.time for b in found.of(3)] == [
            datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
            datetime(2025, 6, 1, 12, 1, 0, 123000, tzinfo=UTC),
            datetime(2025, 6, 1, 12, 2, tzinfo=UTC),
        ]
        assert all(b.time.tzinfo is UTC for b in found.of(3))

    def test_a_beat_without_a_ping_has_none(self) -> None:
        found = heartbeats({"4": [{"status": 0, "time": "2025-06-01 12:00:05.456", "ping": None}]})

        latest = found.latest(4)
        assert latest is not None
        assert (latest.status, latest.ping) == (MonitorStatus.DOWN, None)

    @pytest.mark.parametrize(
        ("status", "state"),
        [(0, "down"), (1, "up"), (2, "degraded"), (3, "maintenance")],
    )
    def test_each_status_has_a_state_to_show(self, status: int, state: str) -> None:
        found = heartbeats({"3": [{"status": status, "time": "2025-06-01 12:00:00", "ping": 1}]})

        latest = found.latest(3)
        assert latest is not None and latest.status.state == state

    def test_a_beat_kuma_never_sends_is_left_out_and_the_rest_kept(self) -> None:
        found = heartbeats(
            {
                "3": [
                    0,
                    {"status": 9, "time": "2025-06-01 12:00:00", "ping": 1},
                    {"status": 1, "time": "yesterday", "ping": 1},
                    {"status": 1, "time": "2025-06-01 12:03:00", "ping": 12.5},
                ],
                "not-an-id": [{"status": 1, "time": "2025-06-01 12:00:00"}],
                "4": [{"status": 2, "time": "2025-06-01 12:00:00", "ping": None}],
            }
        )

        assert set(found.beats) == {3, 4}
        assert [(b.status, b.ping) for b in found.of(3)] == [(MonitorStatus.UP, 12.5)]
        assert found.of(4)[0].status is MonitorStatus.PENDING

    def test_uptime_is_read_by_monitor_from_either_key(self) -> None:
        found = heartbeats(
            {}, {"3_24": 0.9987, "4": 0.95, "5_720": 0.5, "6_24": None, "7_24": 1.0000001}
        )

        assert found.uptime_24h == {3: 0.9987, 4: 0.95, 7: 1.0}

    def test_a_monitor_without_beats_has_no_latest(self) -> None:
        found = heartbeats({"3": []})

        assert (found.of(3), found.latest(3), found.latest(99)) == ((), None, None)

    @pytest.mark.parametrize("body", [b'{"uptimeList": {}}', b'["heartbeatList"]', b"Bad Gateway"])
    def test_an_answer_without_a_heartbeat_list_is_not_kumas(self, body: bytes) -> None:
        with pytest.raises(ValueError, match=r"validation error|Expecting value"):
            Heartbeats.read(body)


class TestKumaTime:
    def test_a_time_with_an_offset_is_brought_to_utc(self) -> None:
        assert kuma_time("2025-06-01T14:00:00+02:00") == datetime(2025, 6, 1, 12, tzinfo=UTC)

    @pytest.mark.parametrize(
        "value", ["", "2025-06-01", "noon", "yesterday afternoon", 1748779200, None]
    )
    def test_anything_else_is_refused(self, value: object) -> None:
        with pytest.raises(ValueError, match=r"not a time|isoformat"):
            kuma_time(value)
