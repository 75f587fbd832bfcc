"""Secrets generated on first start and kept in the data directory.

The signing key and the encryption key must survive restarts: a new signing key would log everyone
out and a new encryption key would make every stored token unreadable. They are written once, with
file mode 0600, and read back on every start; a value given in the environment wins.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from medianest.config import Settings, SettingsError
from medianest.core.security import new_key

SECRETS_FILE = "secrets.json"


def _new_secrets() -> dict[str, str]:
    return {"secret_key": secrets.token_urlsafe(48), "encryption_key": new_key()}


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"Cannot read {path}: {exc}. Restore it from a backup.") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise SettingsError(f"{path} is not a MediaNest secrets file. Restore it from a backup.")
    return data


def _write_new(path: Path, data: dict[str, str]) -> bool:
    """Create the file atomically with mode 0600; False when another process won the race."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def load_or_create(data_dir: Path) -> dict[str, str]:
    # Secrets, the SQLite file and cached art live here: the service's user's alone.
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / SECRETS_FILE
    if not path.exists():
        _write_new(path, _new_secrets())
    stored = _read(path)
    missing = {k: v for k, v in _new_secrets().items() if k not in stored}
    if missing:
        stored.update(missing)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        _write_new(tmp, stored)
        tmp.replace(path)
    return stored


def with_secrets(settings: Settings) -> Settings:
    """Settings whose secret and encryption keys are filled from the data directory if unset."""
    if settings.secret_key and settings.encryption_key:
        return settings
    stored = load_or_create(settings.data_dir)
    update: dict[str, SecretStr] = {}
    if not settings.secret_key:
        update["secret_key"] = SecretStr(stored["secret_key"])
    if not settings.encryption_key:
        update["encryption_key"] = SecretStr(stored["encryption_key"])
        if stored.get("encryption_old_keys") and not settings.encryption_old_keys:
            update["encryption_old_keys"] = SecretStr(stored["encryption_old_keys"])
    return settings.model_copy(update=update)


def rotate_encryption_key(data_dir: Path) -> tuple[str, list[str]]:
    """Make a new sealing key, keeping the old ones for opening; returns (new, old keys)."""
    stored = load_or_create(data_dir)
    old = [stored["encryption_key"]]
    old += [k for k in stored.get("encryption_old_keys", "").split(",") if k]
    stored["encryption_key"] = new_key()
    stored["encryption_old_keys"] = ",".join(old)
    path = data_dir / SECRETS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    _write_new(tmp, stored)
    tmp.replace(path)
    return stored["encryption_key"], old
