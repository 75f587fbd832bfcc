"""`scripts/start` as an owner runs it: it installs the first time and after an update, and
otherwise starts with no package index in reach (an internet outage).

Each test works in a copy of the project's files (those git tracks or would track). Its venv is new, but finds the
dependencies already installed in the venv running these tests (a path file), so an install is
real (pip builds and installs MediaNest from the copy, and fetches the build backend from the
package index) without downloading everything again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support import process
from tests.support.server import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
INSTALLING = "Installing MediaNest into .venv"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    # What a clone has, with the working tree's changes and new files not yet committed.
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    root = tmp_path / "medianest"
    for name in filter(None, tracked.split("\0")):
        source = REPO / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", root / ".venv"], check=True)
    site_packages = subprocess.run(
        [root / ".venv/bin/python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()
    shared = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(site_packages) / "medianest-test-dependencies.pth").write_text("\n".join(shared) + "\n")
    return root


def _environment(**changes: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MEDIANEST_", "VIRTUAL_ENV"))},
        **changes,
    }


def _offline() -> dict[str, str]:
    """pip's settings with the package index out of reach: nothing listens on its port, and no
    configuration file or variable names another index or a folder of packages."""
    environ = {k: v for k, v in _environment().items() if not k.startswith("PIP_")}
    return {
        **environ,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": f"http://127.0.0.1:{free_port()}/simple",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_FIND_LINKS": "",
        # One refused connection is answer enough; retrying it only makes the test slower.
        "PIP_RETRIES": "0",
    }


def _start(project: Path, env: dict[str, str], within: float = 30) -> process.Served:
    port = free_port()
    command = [project / "scripts/start", "--host", "127.0.0.1", "--port", str(port)]
    with process.serving(command, port=port, env=env, within=within) as served:
        pass
    return served


class TestStart:
    def test_starts_offline_once_installed_and_installs_again_after_an_update(
        self, project: Path
    ) -> None:
        # What scripts/test does before it runs the suite: the venv then holds more than a start
        # needs, and a start takes it as it is.
        subprocess.run(
            ["bash", "-c", "source scripts/lib/venv.sh && ensure_venv test"],
            cwd=project,
            env=_environment(),
            check=True,
            timeout=300,
        )

        offline = _start(project, _offline())
        assert INSTALLING not in offline.output, offline.output
        assert "Application startup complete." in offline.output
        assert "Welcome to MediaNest!" in offline.output

        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('"orjson>=3.10"', '"orjson>=3.10.1"'))
        updated = subprocess.run(
            [project / "scripts/start", "--host", "127.0.0.1", "--port", str(free_port())],
            env=_offline(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert updated.returncode != 0
        assert (
            f"{INSTALLING} (pyproject.toml or the version changed since the last install)"
            in updated.stdout
        )
        assert "Could not install MediaNest into .venv" in updated.stderr
        assert "connect to the internet" in updated.stderr
        assert "Application startup complete." not in updated.stderr
