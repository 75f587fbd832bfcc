"""The web shell: server-rendered pages, their static files and the HTML error pages."""

from fastapi import FastAPI

from medianest.config import Settings
from medianest.core.errors import PageRenderer
from medianest.web.admin_pages import install_admin_pages
from medianest.web.library_pages import install_library_pages
from medianest.web.pages import install_web as install_pages

__all__ = ["install_web"]


def install_web(app: FastAPI, settings: Settings) -> PageRenderer:
    """Add every page and the static files to `app`; returns the error page renderer for
    `install_error_handlers`."""
    renderer = install_pages(app, settings)
    install_library_pages(app)
    install_admin_pages(app)
    return renderer
