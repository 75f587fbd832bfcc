"""The web shell: server-rendered pages, their static files and the HTML error pages."""

from medianest.web.pages import install_web

__all__ = ["install_web"]
