"""A notification's link is followed by the inbox: it must never take anyone off the site."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from medianest.notifications.service import is_site_path

SITE = "https://medianest.example/notifications"


def _as_a_browser_reads_it(link: str) -> str:
    # The URL standard drops tabs and newlines anywhere and reads `\` as `/` in http(s) URLs.
    cleaned = link.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    return urljoin(SITE, cleaned)


@given(st.text(alphabet=st.sampled_from("/\\.:@?#%\t\n ab"), max_size=12))
def test_an_accepted_link_stays_on_the_site(link: str) -> None:
    if is_site_path(link):
        assert urlsplit(_as_a_browser_reads_it(link)).netloc == "medianest.example"


def test_paths_on_the_site_are_accepted() -> None:
    assert all(map(is_site_path, ["/", "/requests/7", "/library?sort=year#top", "/a//b"]))


def test_anything_else_is_refused() -> None:
    for link in (
        "",
        "requests",
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "/" + "a" * 500,
    ):
        assert not is_site_path(link), link
