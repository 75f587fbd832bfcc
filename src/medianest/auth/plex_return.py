"""Where app.plex.tv sends the sign-in window once the user approved a PIN.

plex.tv follows the `forwardUrl` of its auth page after consent. MediaNest points it at its own
small page (`DONE_PATH`), which says the window can be closed and closes it. The address is only
ever MediaNest's own: the configured public URL, else the origin the request was addressed to,
with a fixed path. Nothing a caller sends picks another host or path, so the sign-in window can
never be forwarded to someone else's site.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

DONE_PATH = "/auth/plex/done"

# A host name, an IPv4 address or a bracketed IPv6 address, with an optional port: anything else
# in a Host header is not put in a URL handed to plex.tv.
_NETLOC = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")


def plex_done_url(conn: HTTPConnection, public_url: str | None) -> str | None:
    """The `forwardUrl` for a PIN started by `conn`, or None when MediaNest cannot tell its own
    address for sure (plex.tv then leaves its window open and the page that opened it closes it).

    The public URL wins when set. Otherwise the request's own origin: a browser's `Origin` header
    is believed for the scheme (a TLS-terminating proxy makes MediaNest see http) only when it
    names the very host the request was sent to; an `Origin` naming another host gets no
    forwardUrl at all.
    """
    if public_url:
        return public_url + DONE_PATH
    base = conn.base_url
    if base.scheme not in ("http", "https") or not _NETLOC.fullmatch(base.netloc):
        return None
    scheme = base.scheme
    origin = conn.headers.get("origin")
    if origin:
        sent_from = urlsplit(origin)
        same_host = sent_from.netloc.lower() == base.netloc.lower()
        if sent_from.scheme not in ("http", "https") or not same_host:
            return None
        scheme = sent_from.scheme
    root = base.path.rstrip("/")
    return f"{scheme}://{base.netloc}{root}{DONE_PATH}"
