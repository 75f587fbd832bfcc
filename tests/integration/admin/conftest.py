from tests.integration.auth.conftest import admin, medianest

__all__ = ["admin", "medianest"]
