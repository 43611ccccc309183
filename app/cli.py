"""The `funrun` command line: serve, worker, migrate, demo, create-admin, chat, telegram, whatsapp."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from core.config import ConfigError, get_settings

cli = typer.Typer(
    help="funrun: race registration by chat", no_args_is_help=True, pretty_exceptions_enable=False
)
telegram_cli = typer.Typer(help="Telegram bot set-up", no_args_is_help=True)
cli.add_typer(telegram_cli, name="telegram")
whatsapp_cli = typer.Typer(help="WhatsApp Cloud API (Meta) set-up", no_args_is_help=True)
cli.add_typer(whatsapp_cli, name="whatsapp")

ROOT = Path(__file__).resolve().parent.parent
# No access log: the Fonnte webhook URL carries its secret in the path (channels.md §1.6), and
# log_config=None keeps uvicorn from replacing our redacting handlers (core.logging).
UVICORN_LOGGING: dict[str, Any] = {
    "log_level": "warning",
    "access_log": False,
    "log_config": None,
}


def _settings():  # type: ignore[no-untyped-def]
    try:
        return get_settings()
    except ConfigError as exc:
        typer.echo(f"Configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc


def find_alembic_ini() -> Path:
    """Where the migration scripts are: ``ALEMBIC_CONFIG``, else the working directory, else the source tree.

    An installed wheel (the Docker image) has no ``alembic/`` beside the code, so the image's
    WORKDIR holds ``alembic.ini`` and ``alembic/``; a checkout finds them next to ``app/``.
    """
    explicit = os.environ.get("ALEMBIC_CONFIG")
    candidates = (
        [Path(explicit)] if explicit else [Path.cwd() / "alembic.ini", ROOT / "alembic.ini"]
    )
    for ini in candidates:
        if ini.is_file() and (ini.parent / "alembic" / "env.py").is_file():
            return ini.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"no alembic.ini with an alembic/ directory beside it (tried {tried}); "
        "run from the project directory or set ALEMBIC_CONFIG"
    )


def _alembic_config(url: str | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    ini = find_alembic_ini()
    config = Config(str(ini))
    config.set_main_option("script_location", str(ini.parent / "alembic"))
    if url:
        config.attributes["url"] = url
    return config


@cli.command()
def migrate(revision: str = typer.Argument("head")) -> None:
    """Apply database migrations (alembic upgrade)."""
    from alembic import command

    settings = _settings()
    try:
        config = _alembic_config(settings.database_url)
    except FileNotFoundError as exc:
        typer.echo(f"migrate: {exc}", err=True)
        raise typer.Exit(2) from exc
    before = _db_state(settings.database_url)
    command.upgrade(config, revision)
    typer.echo(_migrate_summary(before, _db_state(settings.database_url)))


def _db_state(url: str) -> tuple[str | None, set[str]]:
    """The database's alembic revision and its tables (to say what a migrate changed)."""
    from sqlalchemy import inspect, text

    from core.db import make_engine

    engine = make_engine(url)  # as the app connects: creates a new SQLite file's folder
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            if "alembic_version" not in tables:
                return None, tables
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar(), tables
    finally:
        engine.dispose()


def _migrate_summary(
    before: tuple[str | None, set[str]], after: tuple[str | None, set[str]]
) -> str:
    created = sorted(after[1] - before[1] - {"alembic_version"})
    lines = []
    if before[0] != after[0]:
        lines.append(f"migrated from {before[0] or 'an empty database'} to revision {after[0]}")
    if created:
        lines.append(f"created {len(created)} tables: {', '.join(created)}")
    return "\n".join([*lines, f"database is up to date (revision {after[0]})"])


@cli.command()
def demo(if_empty: bool = typer.Option(False, help="Only seed when there is no event yet")) -> None:
    """Seed the demo event "Jakarta Fun Run" and an admin user (idempotent)."""
    from sqlalchemy import select

    from core import demo as demo_service
    from core.db import unit_of_work
    from core.models import Event

    _settings()
    with unit_of_work() as uow:
        if if_empty and uow.session.scalar(select(Event.id).limit(1)) is not None:
            typer.echo("events exist; demo seed skipped")
            return
        result = demo_service.seed(uow.session)
    typer.echo("demo event created" if result.created else "demo event already present")
    if result.admin_password:
        typer.echo(f"admin login: {result.admin_email}  password: {result.admin_password}")
        typer.echo("(shown once: change it under Settings > Password)")


@cli.command("create-admin")
def create_admin(
    email: str,
    role: str = typer.Option("admin", help="admin, verifier or checkin"),
    password_stdin: bool = typer.Option(False, help="Read the password from standard input"),
) -> None:
    """Create a staff account (password prompted, or read from stdin)."""
    from core.db import unit_of_work
    from core.enums import Role
    from core.errors import Conflict
    from core.staff import accounts

    _settings()
    try:
        role_value = Role(role)
    except ValueError as exc:
        typer.echo(f"unknown role {role!r}: use admin, verifier or checkin", err=True)
        raise typer.Exit(2) from exc
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    from core.staff.accounts import MIN_PASSWORD

    if len(password) < MIN_PASSWORD:  # the same minimum as the admin's password pages
        typer.echo(f"password must be at least {MIN_PASSWORD} characters", err=True)
        raise typer.Exit(2)
    try:
        with unit_of_work() as uow:
            accounts.create(uow.session, email=email, password=password, role=role_value)
    except Conflict as exc:
        typer.echo(f"{email} already exists", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created {role_value.value} {email}")


@cli.command()
def serve(
    host: str = typer.Option(None, help="Bind address (default HOST or 127.0.0.1)"),
    port: int = typer.Option(None, help="Port (default PORT or 8000)"),
    workers: int = typer.Option(
        1, help="API processes (needs REDIS_URL when above 1); about one per core, see README"
    ),
) -> None:
    """Serve webhooks, admin and simulator (with an in-process worker when REDIS_URL is unset)."""
    import uvicorn

    from app.main import create_app
    from app.runtime import start_embedded_worker

    settings = _settings()
    host = host or settings.host
    port = port or settings.port
    if workers > 1:
        if settings.use_inline_worker:
            typer.echo("--workers above 1 needs REDIS_URL and `funrun worker`", err=True)
            raise typer.Exit(2)
        typer.echo(f"funrun on http://{host}:{port} ({workers} processes)")
        # Each process builds its own app (and engine, pool and broker connections) after the fork.
        uvicorn.run(
            "app.main:create_app", factory=True, workers=workers, host=host, port=port,
            **UVICORN_LOGGING,
        )  # fmt: skip
        return
    base = f"http://{host}:{port}"
    typer.echo(f"funrun on {base}")
    typer.echo(f"  admin:     {base}/admin/")
    if settings.simulator_enabled:
        typer.echo(f"  simulator: {base}/simulator")
    stop = start_embedded_worker(settings)
    try:
        uvicorn.run(create_app(settings), host=host, port=port, **UVICORN_LOGGING)
    finally:
        stop()


@cli.command()
def worker(
    processes: int = typer.Option(2, help="Worker processes"),
    threads: int = typer.Option(4, help="Threads per process"),
) -> None:
    """Run Dramatiq workers (needs REDIS_URL) plus the periodic scheduler."""
    import subprocess

    settings = _settings()
    if not settings.redis_url:
        typer.echo("REDIS_URL is not set: `funrun serve` runs the worker in-process", err=True)
        raise typer.Exit(2)
    args = [
        sys.executable,
        "-m",
        "dramatiq",
        "workers",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        "--queues",
        "high",
        "default",
        "notifications",
        "low",
    ]
    # After a broker outage dramatiq restarts its consumers after 3 s by default; 1 s is enough.
    env = {"dramatiq_restart_delay": "1000", **os.environ}
    dramatiq_proc = subprocess.Popen(args, env=env)
    # Both processes import the whole app (seconds of CPU) at once; the worker is the one that
    # answers runners, so on a busy machine the scheduler's boot yields the CPU to it.
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "workers.scheduler"], preexec_fn=_lower_priority
    )
    try:
        raise typer.Exit(_run_forwarding_signals(dramatiq_proc))
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=10)


def _lower_priority() -> None:
    os.nice(10)  # a tick's work is tiny: at nice 10 the scheduler still ticks every second


def _run_forwarding_signals(child) -> int:  # type: ignore[no-untyped-def]
    """Wait for ``child``, passing SIGTERM/SIGINT on to it; return its exit code.

    `docker stop` and `kill` signal only this process: without forwarding, the default SIGTERM
    action ends it at once, skipping `finally`, and orphans Dramatiq and the scheduler.
    """
    import signal

    def forward(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return int(child.wait())


@cli.command()
def chat(
    channel: str = typer.Option(
        "whatsapp", help="whatsapp, cloud (WhatsApp Cloud API) or telegram"
    ),
    phone: str = typer.Option("081234567890", help="The fake runner's phone number"),
) -> None:
    """Chat with the registration bot in the terminal (the same engine as the webhooks)."""
    from app.terminal_chat import run_chat

    _settings()
    run_chat(channel=channel, phone=phone)


@telegram_cli.command("set-webhook")
def telegram_set_webhook(url: str) -> None:
    """Register URL with Telegram (secret token and allowed updates included)."""
    from channels.telegram.setup import set_webhook

    settings = _settings()
    _telegram_call(lambda: set_webhook(settings, url))


@telegram_cli.command("info")
def telegram_info() -> None:
    """Show the bot and its current webhook."""
    from channels.telegram.setup import webhook_info

    settings = _settings()
    _telegram_call(lambda: webhook_info(settings))


def _telegram_call(fn: Callable[[], str]) -> None:
    """Print the result, or one clear line (no traceback) when Telegram cannot be reached."""
    import httpx

    from core.errors import ChannelError

    try:
        typer.echo(fn())
    except (ChannelError, httpx.HTTPError) as exc:
        typer.echo(f"Telegram: {exc or type(exc).__name__}", err=True)
        raise typer.Exit(1) from exc


@whatsapp_cli.command("check")
def whatsapp_check() -> None:
    """Show the Cloud API number, its quality rating and throughput tier, and the webhook fields."""
    from channels.whatsapp.setup import check

    settings = _settings()
    _provider_call("WhatsApp Cloud API", lambda: check(settings))


def _provider_call(name: str, fn: Callable[[], str]) -> None:
    """Print the result, or one clear line (no traceback) when the provider cannot be reached."""
    import httpx

    from core.errors import ChannelError

    try:
        typer.echo(fn())
    except (ChannelError, httpx.HTTPError) as exc:
        typer.echo(f"{name}: {exc or type(exc).__name__}", err=True)
        raise typer.Exit(1) from exc


@cli.command()
def backup(file: Path = typer.Argument(..., help="The backup file to write (a tar)")) -> None:
    """Back up the database (pg_dump custom format, or a SQLite copy) and the referenced media."""
    from app import backup as backups

    try:
        summary = backups.backup(_settings(), file)
    except backups.BackupError as exc:
        typer.echo(f"backup: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"backup written: {file} ({summary.database}, {summary.media_keys} media references, "
        f"{summary.media_files} files copied, {len(summary.missing)} missing)"
    )


@cli.command()
def restore(file: Path = typer.Argument(..., help="A file written by `funrun backup`")) -> None:
    """Replace the database with a backup's and put its media back (stop serve/worker first)."""
    from app import backup as backups

    try:
        summary = backups.restore(_settings(), file)
    except backups.BackupError as exc:
        typer.echo(f"restore: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"restored {summary.database}: {summary.media_files} media files put back, "
        f"{summary.media_keys} references, {len(summary.missing)} missing"
    )
    for key in summary.missing[:20]:
        typer.echo(f"  missing media: {key}", err=True)
    if summary.missing:
        raise typer.Exit(3)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
