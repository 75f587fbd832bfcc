"""A device as the devices list names it, told apart into its browser and its system."""

from __future__ import annotations

import pytest

from medianest.auth.activity import device_families
from medianest.auth.sessions import describe_device

FIREFOX_UBUNTU = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("user_agent", "families"),
    [
        (FIREFOX_UBUNTU, ("Firefox", "Ubuntu")),
        (SAFARI_IPHONE, ("Mobile Safari", "iOS")),
        ("curl/8.5.0", ("curl", "Other")),
        ("python-httpx/0.28.1", ("Other", "Other")),
        (None, ("Unknown", "Unknown")),
    ],
)
def test_the_families_of_what_sign_in_recorded(
    user_agent: str | None, families: tuple[str, str]
) -> None:
    assert device_families(describe_device(user_agent)) == families
