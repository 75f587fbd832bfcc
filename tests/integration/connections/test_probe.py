"""Reasons a test gives that need a server of their own: an HTTPS certificate nobody trusts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fakes.plex_server import FakePlexServer
from tests.integration.connections.conftest import try_connection
from tests.support.app import ok_data
from tests.support.server import ThreadedServer


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def untrusted_https(tmp_path: Path, home: FakePlexServer) -> Iterator[str]:
    """The fake Plex server's app, served over HTTPS with a self-signed certificate."""
    cert_file, key_file = _self_signed(tmp_path)
    server = ThreadedServer(
        home.app, ssl_certfile=str(cert_file), ssl_keyfile=str(key_file)
    ).start()
    yield f"https://127.0.0.1:{server.port}"
    server.stop()


async def test_an_untrusted_https_certificate_is_named(
    admin: httpx.AsyncClient, home: FakePlexServer, untrusted_https: str
) -> None:
    result = ok_data(await try_connection(admin, url=untrusted_https, token=home.owner_token))
    assert (result["ok"], result["reason"]) == (False, "unreachable")
    assert "its HTTPS certificate is not one MediaNest can trust" in result["error"]
