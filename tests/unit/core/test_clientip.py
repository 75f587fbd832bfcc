from __future__ import annotations

import ipaddress

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from starlette.requests import Request

from medianest.config import Settings
from medianest.core.clientip import Network, client_ip, parse_ip, request_client_ip
from tests.conftest import SettingsFactory

PROXIES: list[Network] = [
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("fd00::/8"),
]


class TestUntrustedPeer:
    def test_spoofed_header_is_ignored(self) -> None:
        assert client_ip("203.0.113.9", "1.2.3.4", PROXIES) == "203.0.113.9"

    def test_no_trusted_proxies_configured_means_the_peer(self) -> None:
        assert client_ip("10.0.0.1", "1.2.3.4", []) == "10.0.0.1"

    def test_missing_peer_is_unknown(self) -> None:
        assert client_ip(None, "1.2.3.4", PROXIES) == "unknown"
        assert client_ip("", None, PROXIES) == "unknown"

    def test_non_ip_peer_is_returned_as_given_and_never_trusted(self) -> None:
        assert client_ip("testclient", "1.2.3.4", PROXIES) == "testclient"


class TestTrustedProxy:
    def test_single_proxy_gives_the_client_it_recorded(self) -> None:
        assert client_ip("10.0.0.1", "198.51.100.7", PROXIES) == "198.51.100.7"

    def test_without_header_the_proxy_itself_is_the_client(self) -> None:
        assert client_ip("10.0.0.1", None, PROXIES) == "10.0.0.1"
        assert client_ip("10.0.0.1", "", PROXIES) == "10.0.0.1"

    def test_client_written_entries_left_of_the_real_client_are_ignored(self) -> None:
        header = "1.1.1.1, 2.2.2.2, 198.51.100.7"
        assert client_ip("10.0.0.1", header, PROXIES) == "198.51.100.7"

    def test_chain_of_trusted_proxies_is_skipped_from_the_right(self) -> None:
        header = "6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2"
        assert client_ip("10.0.0.1", header, PROXIES) == "198.51.100.7"

    def test_all_hops_trusted_gives_the_furthest_one(self) -> None:
        assert client_ip("10.0.0.1", "10.3.3.3, 10.2.2.2", PROXIES) == "10.3.3.3"

    def test_ipv6_client_and_proxies(self) -> None:
        header = "2001:db8::1, fd00::2"
        assert client_ip("fd00::1", header, PROXIES) == "2001:db8::1"

    def test_ipv6_is_normalised(self) -> None:
        header = "2001:0DB8:0000:0000:0000:0000:0000:0001"
        assert client_ip("10.0.0.1", header, PROXIES) == "2001:db8::1"

    def test_ipv4_mapped_peer_is_matched_against_ipv4_networks(self) -> None:
        assert client_ip("::ffff:10.0.0.1", "198.51.100.7", PROXIES) == "198.51.100.7"

    def test_ipv4_mapped_client_is_reported_as_ipv4(self) -> None:
        assert client_ip("10.0.0.1", "::ffff:198.51.100.7", PROXIES) == "198.51.100.7"

    def test_entries_with_ports_and_brackets(self) -> None:
        assert client_ip("10.0.0.1", "198.51.100.7:5555", PROXIES) == "198.51.100.7"
        assert client_ip("10.0.0.1", "[2001:db8::7]:443", PROXIES) == "2001:db8::7"
        assert client_ip("10.0.0.1", "[2001:db8::7]", PROXIES) == "2001:db8::7"


class TestMalformedHeader:
    def test_garbage_written_by_the_trusted_proxy_gives_that_proxy(self) -> None:
        assert client_ip("10.0.0.1", "not-an-ip", PROXIES) == "10.0.0.1"

    def test_garbage_behind_a_chain_stops_at_the_last_trusted_hop(self) -> None:
        header = "198.51.100.7, unknown, 10.2.2.2"
        assert client_ip("10.0.0.1", header, PROXIES) == "10.2.2.2"

    def test_garbage_left_of_the_real_client_does_not_matter(self) -> None:
        header = "<script>, 999.1.1.1, 198.51.100.7"
        assert client_ip("10.0.0.1", header, PROXIES) == "198.51.100.7"

    @pytest.mark.parametrize(
        "header",
        [
            ",",
            " , ",
            "1.2.3.4:port",
            "[2001:db8::1",
            "[2001:db8::1]x",
            "1.2.3.4:99999999",
            "01.2.3.4",
            "1.2.3.4 5.6.6.7",
            "\x00",
            "1.2.3.4:²",
        ],
    )
    def test_unparseable_entries_never_become_the_client(self, header: str) -> None:
        assert client_ip("10.0.0.1", header, PROXIES) == "10.0.0.1"

    def test_ipv6_zone_is_dropped(self) -> None:
        assert client_ip("10.0.0.1", "fe80::1%eth0", PROXIES) == "fe80::1"


class TestRequestClientIp:
    def _scope(self, client: tuple[str, int] | None, *xff: bytes) -> dict[str, object]:
        headers = [(b"host", b"medianest.test")] + [(b"x-forwarded-for", v) for v in xff]
        return {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": headers,
            "client": client,
            "query_string": b"",
        }

    def _settings(self, make_settings: SettingsFactory) -> Settings:
        return make_settings(trusted_proxies="10.0.0.0/8, fd00::/8")

    def test_reads_a_starlette_request(self, make_settings: SettingsFactory) -> None:
        request = Request(self._scope(("10.0.0.1", 1234), b"198.51.100.7"))
        assert request_client_ip(request, self._settings(make_settings)) == "198.51.100.7"

    def test_reads_a_raw_scope(self, make_settings: SettingsFactory) -> None:
        scope = self._scope(("203.0.113.9", 1234), b"198.51.100.7")
        assert request_client_ip(scope, self._settings(make_settings)) == "203.0.113.9"

    def test_several_header_lines_are_one_list_in_order(
        self, make_settings: SettingsFactory
    ) -> None:
        scope = self._scope(("10.0.0.1", 1234), b"198.51.100.7", b"10.9.9.9")
        assert request_client_ip(scope, self._settings(make_settings)) == "198.51.100.7"

    def test_scope_without_client(self, make_settings: SettingsFactory) -> None:
        scope = self._scope(None, b"198.51.100.7")
        assert request_client_ip(scope, self._settings(make_settings)) == "unknown"


def test_parse_ip_rejects_what_is_not_an_address() -> None:
    assert parse_ip("") is None
    assert parse_ip("localhost") is None
    assert parse_ip("1.2.3.4") == ipaddress.ip_address("1.2.3.4")


_ips = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)
_entries = st.one_of(_ips, st.text(max_size=20), _ips.map(lambda ip: f"[{ip}]:80"))


@given(
    peer=st.one_of(st.none(), _ips, st.text(max_size=20)),
    header=st.one_of(st.none(), st.text(), st.lists(_entries, max_size=6).map(", ".join)),
    trusted_all=st.booleans(),
)
def test_never_raises_and_answers_an_address_the_peer_or_unknown(
    peer: str | None, header: str | None, trusted_all: bool
) -> None:
    trusted: list[Network] = (
        [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
        if trusted_all
        else PROXIES
    )
    result = client_ip(peer, header, trusted)
    if result == "unknown":
        assert not peer
    elif peer is None or parse_ip(peer) is None:
        assert result == peer
    else:
        ipaddress.ip_address(result)


@given(client=_ips, proxies=st.lists(st.ip_addresses(network="10.0.0.0/8").map(str), max_size=4))
def test_an_untrusted_client_behind_any_chain_of_trusted_proxies_is_found(
    client: str, proxies: list[str]
) -> None:
    address = parse_ip(client)
    assume(address is not None and not any(address in net for net in PROXIES))
    header = ", ".join([client, *proxies])
    assert client_ip("10.0.0.1", header, PROXIES) == str(address)
