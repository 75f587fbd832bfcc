"""Settings: what an operator sees when a value is wrong, and what defaults they get."""

from __future__ import annotations

import ipaddress
import json
import stat
from pathlib import Path

import pytest

from medianest.config import Settings, SettingsError, load_settings
from medianest.core.secret_file import SECRETS_FILE, with_secrets


class TestBadValues:
    @pytest.mark.parametrize(
        ("env", "value", "named"),
        [
            ("MEDIANEST_PORT", "eighty", "MEDIANEST_PORT"),
            ("MEDIANEST_PORT", "70000", "MEDIANEST_PORT"),
            ("MEDIANEST_DATABASE_URL", "mysql://x/y", "MEDIANEST_DATABASE_URL"),
            ("MEDIANEST_REDIS_URL", "localhost:6379", "MEDIANEST_REDIS_URL"),
            ("MEDIANEST_LOG_LEVEL", "LOUD", "MEDIANEST_LOG_LEVEL"),
            ("MEDIANEST_RATE_LIMIT_API", "lots", "MEDIANEST_RATE_LIMIT_API"),
            ("MEDIANEST_TRUSTED_PROXIES", "10.0.0.0/8,not-an-ip", "MEDIANEST_TRUSTED_PROXIES"),
            ("MEDIANEST_PLEX_TV_URL", "plex.tv", "MEDIANEST_PLEX_TV_URL"),
        ],
    )
    def test_a_bad_value_is_one_line_naming_the_variable(
        self, monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
    ) -> None:
        monkeypatch.setenv(env, value)
        with pytest.raises(SettingsError) as caught:
            load_settings()
        message = str(caught.value)
        assert len(message.splitlines()) == 1
        assert message.startswith(f"Invalid setting {named}:")

    def test_two_bad_values_give_two_lines(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MEDIANEST_PORT", "x")
        monkeypatch.setenv("MEDIANEST_LOG_FORMAT", "xml")
        with pytest.raises(SettingsError) as caught:
            load_settings()
        lines = str(caught.value).splitlines()
        assert [line.split(":")[0] for line in lines] == [
            "Invalid setting MEDIANEST_PORT",
            "Invalid setting MEDIANEST_LOG_FORMAT",
        ]

    def test_a_bad_secret_is_never_echoed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MEDIANEST_METRICS_TOKEN", "")
        monkeypatch.setenv("MEDIANEST_PLEX_TOKEN", "{not json}")
        monkeypatch.setenv("MEDIANEST_CACHE_MAX_ENTRIES", "1")
        with pytest.raises(SettingsError) as caught:
            load_settings()
        assert "not json" not in str(caught.value)


class TestDefaults:
    def test_embedded_default_needs_no_configuration(self, tmp_path: Path) -> None:
        settings = load_settings(data_dir=tmp_path)
        assert (
            settings.resolved_database_url
            == f"sqlite+aiosqlite:///{tmp_path.resolve()}/medianest.db"
        )
        assert settings.redis_url is None
        assert settings.resolved_web_runs_jobs is True
        assert settings.resolved_log_format == "json"
        assert settings.resolved_youtube_dir == tmp_path / "youtube"

    def test_development_logs_to_the_console(self) -> None:
        assert load_settings(env="development").resolved_log_format == "console"

    def test_lists_are_comma_separated(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MEDIANEST_TRUSTED_PROXIES", "10.0.0.1, 172.16.0.0/12")
        monkeypatch.setenv("MEDIANEST_CORS_ORIGINS", "https://a.example,https://b.example")
        settings = load_settings()
        assert settings.trusted_proxies == [
            ipaddress.ip_network("10.0.0.1/32"),
            ipaddress.ip_network("172.16.0.0/12"),
        ]
        assert settings.cors_origins == ["https://a.example", "https://b.example"]

    def test_with_redis_jobs_go_to_workers(self) -> None:
        settings = load_settings(redis_url="redis://127.0.0.1:6379/0")
        assert settings.resolved_web_runs_jobs is False
        assert load_settings(redis_url="redis://h", web_runs_jobs=True).resolved_web_runs_jobs


class TestAddressToOpen:
    @pytest.mark.parametrize(
        ("host", "port", "address"),
        [
            ("0.0.0.0", 8080, "http://localhost:8080"),
            ("::", 9000, "http://localhost:9000"),
            ("192.168.1.20", 8080, "http://192.168.1.20:8080"),
            ("::1", 8080, "http://[::1]:8080"),
        ],
    )
    def test_where_serve_listens(self, host: str, port: int, address: str) -> None:
        assert load_settings(host=host, port=port).address_to_open == address

    def test_the_public_url_wins(self) -> None:
        settings = load_settings(host="127.0.0.1", public_url="https://media.example.org/")
        assert settings.address_to_open == "https://media.example.org"


class TestGeneratedSecrets:
    def test_generated_once_kept_private_and_reused(self, tmp_path: Path) -> None:
        first = with_secrets(Settings(data_dir=tmp_path))
        second = with_secrets(Settings(data_dir=tmp_path))
        path = tmp_path / SECRETS_FILE
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert first.secret_key is not None and second.secret_key is not None
        assert first.secret_key.get_secret_value() == second.secret_key.get_secret_value()
        assert first.encryption_key == second.encryption_key
        assert len(first.secret_key.get_secret_value()) >= 48

    def test_values_from_the_environment_win(self, tmp_path: Path) -> None:
        settings = with_secrets(Settings(data_dir=tmp_path, secret_key="from-env" * 4))
        assert settings.secret_key is not None
        assert settings.secret_key.get_secret_value() == "from-env" * 4
        stored = json.loads((tmp_path / SECRETS_FILE).read_text())
        assert stored["secret_key"] != "from-env" * 4

    def test_a_damaged_secrets_file_stops_start_up_clearly(self, tmp_path: Path) -> None:
        (tmp_path / SECRETS_FILE).write_text("{broken")
        with pytest.raises(SettingsError, match="Restore it from a backup"):
            with_secrets(Settings(data_dir=tmp_path))
