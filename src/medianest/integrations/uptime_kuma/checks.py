"""What is checked before anything is sent to Uptime Kuma: status page slugs and API keys."""

from __future__ import annotations

import re

from medianest.integrations.uptime_kuma.errors import InvalidApiKey, InvalidSlug

# Kuma's own rule for a slug (`checkSlug`); it lower-cases slugs when a page is made, and v2
# lower-cases them when it looks one up (1.23 does not, so MediaNest does it for both).
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MAX_SLUG = 255
# `uk<id>_<secret>`: Kuma finds the key by the id between "uk" and the first underscore.
_API_KEY = re.compile(r"uk[0-9]+_[\x21-\x7e]+")
_MAX_API_KEY = 512


def check_slug(slug: str) -> str:
    """The slug as Kuma stores it (lower case, no blanks around). Raises `InvalidSlug`."""
    found = slug.strip().lower()
    if len(found) > _MAX_SLUG or not _SLUG.fullmatch(found):
        raise InvalidSlug(slug)
    return found


def check_api_key(api_key: str) -> str:
    """The key without blanks around. Raises `InvalidApiKey`."""
    key = api_key.strip()
    if len(key) > _MAX_API_KEY or not _API_KEY.fullmatch(key):
        raise InvalidApiKey()
    return key
