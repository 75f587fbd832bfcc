"""`medianest`: serve the portal, run workers, manage the database and look at the settings."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Annotated, NoReturn

import typer

from medianest import __version__
from medianest.config import ENV_PREFIX, Settings, SettingsError, load_settings
from medianest.core import migrate
from medianest.core.secret_file import SECRETS_FILE, with_secrets

app = typer.Typer(
    help="MediaNest: one login for everything around a Plex server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
config_app = typer.Typer(
    help="Inspect the settings MediaNest would start with.", no_args_is_help=True
)
queue_app = typer.Typer(help="Background job queue.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys for stored secrets.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(config_app, name="config")
app.add_typer(queue_app, name="queue")


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _settings(**overrides: object) -> Settings:
    try:
        return with_secrets(load_settings(**overrides))
    except SettingsError as exc:
        _fail(str(exc))


def _migrate(settings: Settings, revision: str = "head") -> None:
    try:
        migrate.upgrade(settings.resolved_database_url, revision)
    except Exception as exc:
        _fail(f"Could not migrate the database: {exc}", code=1)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: MEDIANEST_HOST or 0.0.0.0].")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on [default: MEDIANEST_PORT or 8080].")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Web processes; more than one needs Redis.")
    ] = 1,
    migrate_first: Annotated[
        bool,
        typer.Option("--migrate/--no-migrate", help="Apply pending database migrations first."),
    ] = True,
) -> None:
    """Start the web portal (and, without Redis, the background jobs in the same process)."""
    import uvicorn

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = _settings(**overrides)
    if workers > 1 and not settings.uses_redis:
        _fail(
            "Several web workers need Redis to share the cache, rate limits and live updates: "
            f"set {ENV_PREFIX}REDIS_URL, or run with --workers 1."
        )
    if migrate_first:
        _migrate(settings)
    # The factory reads the environment again in each worker process; pass what the flags changed.
    for name, value in overrides.items():
        os.environ[f"{ENV_PREFIX}{name.upper()}"] = str(value)
    uvicorn.run(
        "medianest.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=[str(n) for n in settings.trusted_proxies] or None,
        log_config=None,
        server_header=False,
    )


@app.command()
def worker() -> None:
    """Run background jobs taken from the Redis queue (downloads, library syncs, polling)."""
    settings = _settings()
    if not settings.uses_redis:
        _fail(
            f"A separate worker takes its jobs from Redis: set {ENV_PREFIX}REDIS_URL. "
            "Without Redis, `medianest serve` runs the jobs itself."
        )
    from medianest.worker import run_worker

    asyncio.run(run_worker(settings))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = _settings()
    _migrate(settings, revision)
    typer.echo(f"Database is at {migrate.current(settings.resolved_database_url)[0] or 'base'}.")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision: an id, -1, or base.")],
) -> None:
    """Undo migrations down to REVISION. Data in dropped tables is lost."""
    settings = _settings()
    try:
        migrate.downgrade(settings.resolved_database_url, revision)
    except Exception as exc:
        _fail(f"Could not downgrade the database: {exc}", code=1)
    typer.echo(f"Database is at {migrate.current(settings.resolved_database_url)[0] or 'base'}.")


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision and whether it is up to date."""
    settings = _settings()
    try:
        current, head = migrate.current(settings.resolved_database_url)
    except Exception as exc:
        _fail(f"Could not read the database: {exc}", code=1)
    state = (
        "up to date"
        if current == head
        else f"behind (newest is {head}; run `medianest db upgrade`)"
    )
    typer.echo(f"{current or 'base (empty database)'}: {state}")


@db_app.command("check")
def db_check() -> None:
    """Fail when the models have changes no migration covers (run after `db upgrade`)."""
    settings = _settings()
    try:
        migrate.check(settings.resolved_database_url)
    except Exception as exc:
        _fail(f"Models and migrations disagree: {exc}", code=1)
    typer.echo("Models and migrations agree.")


_SECRETS = {
    "secret_key",
    "encryption_key",
    "encryption_old_keys",
    "metrics_token",
    "plex_token",
    "smtp_password",
}


@config_app.command("show")
def config_show() -> None:
    """Print every setting as it would be used, secrets masked."""
    given = load_settings_or_fail()
    settings = with_secrets(given)
    for name in sorted(Settings.model_fields):
        value = getattr(settings, name)
        if name in _SECRETS:
            if value is None:
                shown = "(not set)"
            elif getattr(given, name) is None:
                shown = f"******** (generated, kept in {settings.data_dir / SECRETS_FILE})"
            else:
                shown = "********"
        elif name == "database_url":
            shown = _mask_url(settings.resolved_database_url)
        elif name == "redis_url":
            shown = _mask_url(value) if value else "(not set: in-process cache, queue and pub/sub)"
        elif isinstance(value, list):
            shown = ",".join(str(v) for v in value) or "(none)"
        else:
            shown = "(not set)" if value is None else str(value)
        typer.echo(f"{ENV_PREFIX}{name.upper()}={shown}")


def load_settings_or_fail() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        _fail(str(exc))


def _mask_url(url: str) -> str:
    """Hide a password in a URL such as postgresql+asyncpg://user:pw@host/db."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, at, location = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:********{at}{location}" if ":" in credentials else url


@queue_app.command("ping")
def queue_ping(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a worker.")] = 30.0,
) -> None:
    """Send a test job and report which process ran it (checks that workers are running)."""
    from medianest.worker import ping_workers

    settings = _settings()
    try:
        ran_on = asyncio.run(ping_workers(settings, within=timeout))
    except TimeoutError:
        _fail(f"No worker ran the test job within {timeout:g} s. Is `medianest worker` running?", 1)
    typer.echo(f"The test job ran on {ran_on}.")


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random encryption key (for MEDIANEST_ENCRYPTION_KEY)."""
    from medianest.core.security import new_key

    typer.echo(new_key())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Seal stored secrets with a new key; the old key keeps opening anything not yet re-sealed.

    Restart every MediaNest process afterwards so they all use the new key.
    """
    from medianest.core.secret_file import rotate_encryption_key

    given = load_settings_or_fail()
    if given.encryption_key is not None:
        _fail(
            f"The encryption key comes from {ENV_PREFIX}ENCRYPTION_KEY. To rotate it, set that "
            "to a new key (`medianest keys generate`), put the old one in "
            f"{ENV_PREFIX}ENCRYPTION_OLD_KEYS, and run `medianest keys reencrypt`."
        )
    rotate_encryption_key(given.data_dir)
    changed = _reencrypt(with_secrets(load_settings_or_fail()))
    typer.echo(f"New encryption key in use; {changed} stored secrets re-sealed. Restart MediaNest.")


@keys_app.command("reencrypt")
def keys_reencrypt() -> None:
    """Re-seal stored secrets with the current key (after changing it in the environment)."""
    changed = _reencrypt(_settings())
    typer.echo(f"{changed} stored secrets re-sealed with the current key.")


def _reencrypt(settings: Settings) -> int:
    import medianest.app  # noqa: F401  (every domain's tables, to find their encrypted columns)
    from medianest.core.db import Database
    from medianest.core.keys import reencrypt
    from medianest.core.security import EncryptionService

    async def run() -> int:
        db = Database(settings.resolved_database_url)
        try:
            return await reencrypt(db, EncryptionService(settings.encryption_keys))
        finally:
            await db.close()

    try:
        return asyncio.run(run())
    except Exception as exc:
        _fail(f"Could not re-seal the stored secrets: {exc}", code=1)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    # Ctrl-C during a command should end quietly, not with a traceback.
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
