"""Static files: served with a content-hash version in their URL, so they can be cached for a year
and a new release is still picked up at once. The shell's own are under /static/, each domain's
under /static/<domain>/."""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.responses import Response
from starlette.routing import Mount, Router
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"
LONG_CACHE = "public, max-age=31536000, immutable"


def _versions(directory: Path, prefix: str = "") -> dict[str, str]:
    return {
        prefix + path.relative_to(directory).as_posix(): hashlib.sha256(
            path.read_bytes()
        ).hexdigest()[:12]
        for path in directory.rglob("*")
        if path.is_file()
    }


class AssetManifest:
    """Content hashes of the static files, read once when the app is built."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self._versions = _versions(directory)

    def add(self, name: str, directory: Path) -> None:
        """A domain's files, as `<name>/<path>`."""
        self._versions.update(_versions(directory, f"{name}/"))

    def url(self, path: str) -> str:
        """Raises KeyError for a file that does not exist, so a typo fails the page's test."""
        return f"{STATIC_PREFIX}/{path}?v={self._versions[path]}"


class VersionedStaticFiles(StaticFiles):
    """A versioned URL never changes content: cache it for a year. Unversioned ones (the
    modules a script imports) are revalidated with their ETag on every use."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            versioned = b"v=" in scope.get("query_string", b"")
            response.headers["Cache-Control"] = LONG_CACHE if versioned else "no-cache"
        return response


class StaticAssets(Router):
    """What is mounted at /static: the shell's files, and each domain's added under its name.

    A domain's mount is put ahead of the shell's, which answers everything else."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        super().__init__(routes=[Mount("/", VersionedStaticFiles(directory=directory))])

    def add(self, name: str, directory: Path) -> None:
        self.routes.insert(-1, Mount(f"/{name}", VersionedStaticFiles(directory=directory)))
