"""Reading Uptime Kuma's `/metrics` text, v1 and v2, defensively."""

from __future__ import annotations

import pytest

from medianest.integrations.uptime_kuma.metrics_text import NotKumaMetrics, parse_metrics
from medianest.integrations.uptime_kuma.schemas import DAY, MONTH, YEAR, MonitorStatus

V1_LABELS = (
    'monitor_name="Plex",monitor_type="http",monitor_url="http://plex:32400/identity",'
    'monitor_hostname="null",monitor_port="null"'
)
PORT_LABELS = (
    'monitor_name="SSH",monitor_type="port",monitor_url="https://",'
    'monitor_hostname="nas.local",monitor_port="22"'
)
V1 = f"""# HELP monitor_cert_days_remaining The number of days remaining until the certificate expires
# TYPE monitor_cert_days_remaining gauge

# HELP monitor_cert_is_valid Is the certificate still valid? (1 = Yes, 0= No)
# TYPE monitor_cert_is_valid gauge

# HELP monitor_response_time Monitor Response Time (ms)
# TYPE monitor_response_time gauge
monitor_response_time{{{V1_LABELS}}} 42
monitor_response_time{{{PORT_LABELS}}} -1

# HELP monitor_status Monitor Status (1 = UP, 0= DOWN, 2= PENDING, 3= MAINTENANCE)
# TYPE monitor_status gauge
monitor_status{{{V1_LABELS}}} 1
monitor_status{{{PORT_LABELS}}} 0

# HELP process_cpu_user_seconds_total Total user CPU time spent in seconds.
# TYPE process_cpu_user_seconds_total counter
process_cpu_user_seconds_total 34427.87895300006

# HELP app_version The service version by package.json
# TYPE app_version gauge
app_version{{version="1.23.17",major="1",minor="23",patch="17"}} 1

# HELP http_request_duration_seconds Duration of HTTP requests in seconds
# TYPE http_request_duration_seconds histogram
"""

V2_LABELS = (
    'monitor_id="3",monitor_name="Plex",monitor_type="http",'
    'monitor_url="https://plex.example",monitor_hostname="null",monitor_port="null"'
)
V2 = f"""# HELP monitor_cert_days_remaining The number of days remaining until the certificate expires
# TYPE monitor_cert_days_remaining gauge
monitor_cert_days_remaining{{{V2_LABELS}}} 61
# HELP monitor_cert_is_valid Is the certificate still valid? (1 = Yes, 0= No)
# TYPE monitor_cert_is_valid gauge
monitor_cert_is_valid{{{V2_LABELS}}} 1
# HELP monitor_uptime_ratio Uptime ratio calculated over sliding window specified by the 'window' label. (0.0 - 1.0)
# TYPE monitor_uptime_ratio gauge
monitor_uptime_ratio{{{V2_LABELS},window="1d"}} 0.9987
monitor_uptime_ratio{{{V2_LABELS},window="30d"}} 0.99
monitor_uptime_ratio{{{V2_LABELS},window="365d"}} 0.98
# HELP monitor_response_time_seconds Average response time in seconds calculated over sliding window specified by the 'window' label
# TYPE monitor_response_time_seconds gauge
monitor_response_time_seconds{{{V2_LABELS},window="1d"}} 0.045
monitor_response_time_seconds{{{V2_LABELS},window="30d"}} NaN
# HELP monitor_response_time Monitor Response Time (ms)
# TYPE monitor_response_time gauge
monitor_response_time{{{V2_LABELS}}} 42
# HELP monitor_status Monitor Status (1 = UP, 0= DOWN, 2= PENDING, 3= MAINTENANCE)
# TYPE monitor_status gauge
monitor_status{{{V2_LABELS}}} 2
# HELP app_version The service version by package.json
# TYPE app_version gauge
app_version{{version="2.5.3",major="2",minor="5",patch="3"}} 1
"""


class TestV2:
    def test_every_gauge_of_a_monitor_by_its_id(self) -> None:
        snapshot = parse_metrics(V2)

        plex = snapshot.by_id(3)
        assert plex is not None
        assert (plex.name, plex.type, plex.url, plex.hostname, plex.port) == (
            "Plex",
            "http",
            "https://plex.example",
            None,
            None,
        )
        assert plex.status is MonitorStatus.PENDING
        assert plex.response_time_ms == 42
        assert plex.uptime == {DAY: 0.9987, MONTH: 0.99, YEAR: 0.98}
        # NaN (Kuma divides a missing average by 1000) is no figure at all.
        assert plex.average_response_ms == {DAY: pytest.approx(45.0)}
        assert (plex.cert_days_remaining, plex.cert_valid) == (61, True)
        assert (snapshot.version, snapshot.generation) == ("2.5.3", 2)

    def test_a_status_pages_monitor_is_found_by_id(self) -> None:
        snapshot = parse_metrics(V2)

        found = snapshot.find(3, "Renamed since")
        assert found is not None and found.name == "Plex"
        assert snapshot.find(4, "Plex") is None


class TestV1:
    def test_monitors_are_named_by_their_labels_without_an_id(self) -> None:
        snapshot = parse_metrics(V1)

        assert [(m.monitor_id, m.name) for m in snapshot.monitors] == [
            (None, "Plex"),
            (None, "SSH"),
        ]
        assert (snapshot.version, snapshot.generation) == ("1.23.17", 1)

    def test_null_labels_are_absent_and_a_port_is_a_number(self) -> None:
        snapshot = parse_metrics(V1)

        plex, ssh = snapshot.by_name("Plex"), snapshot.by_name("SSH")
        assert plex is not None and ssh is not None
        assert (plex.hostname, plex.port) == (None, None)
        assert (ssh.url, ssh.hostname, ssh.port) == ("https://", "nas.local", 22)

    def test_no_ping_is_no_response_time(self) -> None:
        ssh = parse_metrics(V1).by_name("SSH")

        assert ssh is not None
        assert (ssh.status, ssh.response_time_ms) == (MonitorStatus.DOWN, None)

    def test_v1_has_no_windows(self) -> None:
        plex = parse_metrics(V1).by_name("Plex")

        assert plex is not None and (plex.uptime, plex.average_response_ms) == ({}, {})

    def test_a_status_pages_monitor_is_found_by_its_unique_name(self) -> None:
        snapshot = parse_metrics(V1)

        found = snapshot.find(3, "Plex")
        assert found is not None and found.response_time_ms == 42

    def test_two_monitors_of_one_name_are_not_guessed_between(self) -> None:
        other = V1_LABELS.replace("plex:32400", "plex2:32400")
        text = V1 + f"monitor_status{{{other}}} 0\n"

        snapshot = parse_metrics(text)

        assert len(snapshot.monitors) == 3
        assert snapshot.by_name("Plex") is None


class TestDefensive:
    def test_an_odd_line_costs_only_itself(self) -> None:
        broken = V2.replace(
            "monitor_response_time{",
            'monitor_response_time{monitor_name="unterminated} 1\nmonitor_response_time{',
            1,
        )

        plex = parse_metrics(broken).by_id(3)

        assert plex is not None
        assert (plex.status, plex.response_time_ms) == (MonitorStatus.PENDING, 42)

    @pytest.mark.parametrize("absent", ["null", "undefined", ""])
    def test_labels_kuma_had_no_value_for_are_absent(self, absent: str) -> None:
        text = V1.replace('monitor_url="http://plex:32400/identity"', f'monitor_url="{absent}"')

        plex = parse_metrics(text).by_name("Plex")

        assert plex is not None and plex.url is None

    def test_escaped_label_values_are_read_back(self) -> None:
        text = V1.replace('monitor_name="Plex"', r'monitor_name="Plex \"4K\" \\ main"')

        assert parse_metrics(text).by_name('Plex "4K" \\ main') is not None

    def test_a_status_kuma_never_had_is_no_status(self) -> None:
        text = V2.replace(f"monitor_status{{{V2_LABELS}}} 2", f"monitor_status{{{V2_LABELS}}} 7")

        plex = parse_metrics(text).by_id(3)

        assert plex is not None and plex.status is None

    def test_a_kuma_without_monitors_has_an_empty_snapshot(self) -> None:
        empty = "\n".join(line for line in V1.splitlines() if not line.startswith("monitor_"))

        snapshot = parse_metrics(empty)

        assert (snapshot.monitors, snapshot.version) == ((), "1.23.17")

    @pytest.mark.parametrize(
        "text",
        [
            "# HELP process_cpu_user_seconds_total Total\nprocess_cpu_user_seconds_total 1\n",
            "<!DOCTYPE html><html><body>Sign in</body></html>",
            "",
        ],
    )
    def test_text_without_kumas_gauges_is_not_kumas(self, text: str) -> None:
        with pytest.raises(NotKumaMetrics):
            parse_metrics(text)
