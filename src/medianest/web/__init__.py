"""The web shell: the renderer every page goes through, the layout, the shared static files, the
HTML error pages, Home and Help, and the extension points the domains' pages register with."""

from medianest.web.pages import install_web
from medianest.web.shell import WebShell

__all__ = ["WebShell", "install_web"]
