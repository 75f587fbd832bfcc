"""Status page slugs and API keys, checked before anything is sent to Uptime Kuma."""

from __future__ import annotations

import pytest

from medianest.integrations.uptime_kuma.checks import check_api_key, check_slug
from medianest.integrations.uptime_kuma.errors import InvalidApiKey, InvalidSlug


class TestCheckSlug:
    @pytest.mark.parametrize(
        ("slug", "stored"),
        [("home", "home"), ("  Home-Lab-2 ", "home-lab-2"), ("MEDIA", "media"), ("7", "7")],
    )
    def test_lower_cased_as_kuma_stores_it(self, slug: str, stored: str) -> None:
        assert check_slug(slug) == stored

    @pytest.mark.parametrize(
        "slug",
        [
            "my page",
            "-home",
            "home-",
            "home--lab",
            "home_lab",
            "hôme",
            "../admin",
            "a/b",
            "x" * 256,
        ],
    )
    def test_anything_else_is_refused_naming_it(self, slug: str) -> None:
        with pytest.raises(InvalidSlug) as refused:
            check_slug(slug)

        assert refused.value.slug == slug
        assert slug[:20] in refused.value.message
        assert refused.value.details == [{"field": "statusPages", "message": refused.value.message}]

    def test_an_empty_slug_is_asked_for(self) -> None:
        with pytest.raises(InvalidSlug, match="Enter the slug"):
            check_slug("  ")


class TestCheckApiKey:
    def test_a_key_as_kuma_makes_them_is_kept_without_blanks(self) -> None:
        assert check_api_key(" uk12_AbCdEf0123456789\n") == "uk12_AbCdEf0123456789"

    @pytest.mark.parametrize(
        "key", ["", "AbCdEf0123", "uk_secret", "ukx_secret", "uk1_", "uk1_two words", "uk1_é"]
    )
    def test_anything_else_is_refused(self, key: str) -> None:
        with pytest.raises(InvalidApiKey) as refused:
            check_api_key(key)

        assert refused.value.details == [{"field": "apiKey", "message": refused.value.message}]
