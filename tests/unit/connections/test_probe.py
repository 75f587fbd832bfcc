"""What an administrator is told about an address before any service is called, in each
service's words, and how a failed test becomes the form's error."""

from __future__ import annotations

import enum

import pytest

from medianest.connections.probe import (
    BadUrl,
    ConnectionTestFailed,
    ProbeResult,
    Told,
    UrlRules,
    check_url,
    wording,
)
from medianest.plex.probe import PLEX_URL
from medianest.requests.probe import OVERSEERR_URL

PLEX_EXAMPLE = "like http://192.168.1.20:32400"
OVERSEERR_EXAMPLE = "like http://192.168.1.20:5055"

# Said the same way for every service.
SPACES = "The address cannot contain spaces."
SUFFIX = "Leave out everything after ? or # in the address."
PORT = "The port must be between 1 and 65535."


def _refusal(url: str, rules: UrlRules) -> str:
    with pytest.raises(BadUrl) as raised:
        check_url(url, rules)
    return str(raised.value)


class TestPlexAddress:
    @pytest.mark.parametrize(
        ("url", "says"),
        [
            ("", f"Enter the Plex server's address, {PLEX_EXAMPLE}."),
            ("   ", f"Enter the Plex server's address, {PLEX_EXAMPLE}."),
            ("http://192.168.1.20 :32400", SPACES),
            ("http://192.168.1.20:32400\x07", SPACES),
            ("http://192.168.1.20:99999", f"This is not a valid address. Enter it {PLEX_EXAMPLE}."),
            ("http://[::1", f"This is not a valid address. Enter it {PLEX_EXAMPLE}."),
            (
                "ftp://192.168.1.20:32400",
                f"Start the address with http:// or https://, {PLEX_EXAMPLE}.",
            ),
            ("192.168.1.20:32400", f"Start the address with http:// or https://, {PLEX_EXAMPLE}."),
            ("http://:32400", f"Start the address with http:// or https://, {PLEX_EXAMPLE}."),
            (
                "http://me:secret@192.168.1.20:32400",
                "Leave the user name and password out of the address: "
                "Plex signs in with the token.",
            ),
            (
                "http://me@192.168.1.20:32400",
                "Leave the user name and password out of the address: "
                "Plex signs in with the token.",
            ),
            ("http://192.168.1.20:32400/?x=1", SUFFIX),
            ("http://192.168.1.20:32400/#web", SUFFIX),
            ("http://192.168.1.20:32400/?", SUFFIX),
            ("http://192.168.1.20:0", PORT),
        ],
    )
    def test_a_bad_address_says_what_to_change(self, url: str, says: str) -> None:
        assert _refusal(url, PLEX_URL) == says

    def test_a_good_address_loses_blanks_and_trailing_slashes(self) -> None:
        assert check_url("  https://plex.example.org:32400// ", PLEX_URL) == (
            "https://plex.example.org:32400"
        )

    def test_a_path_is_kept(self) -> None:
        assert check_url("http://nas/plex/api/v1/", PLEX_URL) == "http://nas/plex/api/v1"

    def test_the_missing_address_is_asked_for_in_the_same_words(self) -> None:
        assert PLEX_URL.missing == _refusal("", PLEX_URL)


class TestOverseerrAddress:
    @pytest.mark.parametrize(
        ("url", "says"),
        [
            ("", f"Enter Overseerr's address, {OVERSEERR_EXAMPLE}."),
            ("http://192.168.1.20 :5055", SPACES),
            (
                "http://192.168.1.20:70000",
                f"This is not a valid address. Enter it {OVERSEERR_EXAMPLE}.",
            ),
            (
                "ftp://overseerr",
                f"Start the address with http:// or https://, {OVERSEERR_EXAMPLE}.",
            ),
            (
                "http://admin:pw@192.168.1.20:5055",
                "Leave the user name and password out of the address: the API key is enough.",
            ),
            ("http://192.168.1.20:5055/api/v1?apikey=x", SUFFIX),
            ("http://192.168.1.20:5055#", SUFFIX),
            ("http://192.168.1.20:0", PORT),
        ],
    )
    def test_a_bad_address_says_what_to_change(self, url: str, says: str) -> None:
        assert _refusal(url, OVERSEERR_URL) == says

    @pytest.mark.parametrize(
        "url",
        [
            "http://192.168.1.20:5055",
            "http://192.168.1.20:5055/",
            " http://192.168.1.20:5055/api/v1 ",
            "http://192.168.1.20:5055/api/v1/",
        ],
    )
    def test_the_api_path_pasted_with_the_address_is_dropped(self, url: str) -> None:
        assert check_url(url, OVERSEERR_URL) == "http://192.168.1.20:5055"

    def test_the_missing_address_is_asked_for_in_the_same_words(self) -> None:
        assert OVERSEERR_URL.missing == _refusal(" ", OVERSEERR_URL)


class TestFailureWording:
    def test_a_way_to_fail_without_words_is_refused_at_once(self) -> None:
        class Failure(enum.Enum):
            TIMEOUT = "timeout"
            GONE = "gone"

        told = Told("timeout", "url", "Too slow.")
        with pytest.raises(TypeError, match="GONE"):
            wording(Failure, {Failure.TIMEOUT: told})

    def test_the_message_names_the_host_the_timeout_and_the_status(self) -> None:
        told = Told("server_error", "url", "{host} gave HTTP {status} within {timeout:g} s.")

        result = ProbeResult.told(told, host="nas:5055", timeout=2.0, status=502, latency_ms=12)

        assert result == ProbeResult(
            ok=False,
            latency_ms=12,
            reason="server_error",
            error="nas:5055 gave HTTP 502 within 2 s.",
            field="url",
        )


class _Failed(ConnectionTestFailed):
    message = "MediaNest could not connect to this service."


class TestConnectionTestFailed:
    def test_the_reason_is_told_against_its_field(self) -> None:
        error = _Failed.of(ProbeResult.failed("key_refused", "Wrong key.", "apiKey"))

        assert (error.code, error.status, error.message) == ("CONNECTION_FAILED", 400, "Wrong key.")
        assert error.details == [{"field": "apiKey", "message": "Wrong key."}]

    def test_without_a_reason_the_services_own_message_is_told_against_the_address(
        self,
    ) -> None:
        error = _Failed.of(ProbeResult(ok=False))

        assert error.message == "MediaNest could not connect to this service."
        assert error.details == [{"field": "url", "message": error.message}]
