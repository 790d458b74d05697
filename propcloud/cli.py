"""The ``propcloud`` command: the one composition root that knows every layer."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from operational.db import create_db_engine, unit_of_work, upgrade
from operational.demo import DEMO_PASSWORD, DemoOptions, demo_users, load_demo
from operational.errors import DomainError
from operational.i18n import t
from operational.imports.org import ensure_group, import_org_file
from operational.models import Role, ScopeLevel
from operational.services.users import GrantSpec, add_user, list_users, unlock
from operational.settings import Settings, load_settings
from propcloud.console import CLI, encoding_option, fail, progress_shown, run_import
from propcloud.dagster_instance import dagster_home, prepare_instance

REPO_ROOT = Path(__file__).resolve().parent.parent


def _settings() -> Settings:
    return load_settings()


def parse_instant(text: str) -> datetime:
    """An ISO timestamp; without an offset it is taken as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO date/time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_grant(text: str) -> GrantSpec:
    """``ROLE@group``, ``ROLE@city:CODE`` or ``ROLE@office:CODE``."""
    try:
        role_text, scope = text.split("@", 1)
        level_text, _, code = scope.partition(":")
        spec = GrantSpec(Role(role_text), ScopeLevel(level_text), code)
    except ValueError as exc:
        raise DomainError("users.bad_grant", value=text) from exc
    if (spec.scope_level is ScopeLevel.GROUP) == bool(spec.scope_code):
        raise DomainError("users.bad_grant", value=text)
    return spec


@click.group()
def main() -> None:
    """propcloud — operations and analytics for property-management groups (物业集团).

    Settings come from environment variables: PROPCLOUD_DATABASE_URL (default: SQLite under
    var/), PROPCLOUD_WAREHOUSE_DIR, PROPCLOUD_GROUP_CODE, PROPCLOUD_GROUP_NAME,
    PROPCLOUD_BASE_URL, PROPCLOUD_LANG (zh_CN or en), … (docs/operations.md). Long commands
    show their progress on standard error.
    """


@main.group()
def db() -> None:
    """The operational database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the operational database to the newest schema (Alembic)."""
    settings = _settings()
    upgrade(settings.database_url)
    with unit_of_work(create_db_engine(settings.database_url)) as session:
        ensure_group(session, settings.group_code, settings.group_name)
    click.echo(f"database is up to date: {settings.database_url}")


@main.group("import")
def import_() -> None:
    """Batch imports from CSV or XLSX: all rows or none, problems reported by row number."""


@import_.command("org")
@click.argument("file", type=click.Path(path_type=Path))
@encoding_option
def import_org(file: Path, encoding: str | None) -> None:
    """Import city companies and offices.

    Columns: city_code, city_name, office_code, office_name, and optional timezone
    (default Asia/Shanghai). Importing the same file twice changes nothing.
    """
    settings = _settings()
    run_import(
        file,
        lambda session, path: import_org_file(
            session,
            path,
            group=ensure_group(session, settings.group_code, settings.group_name),
            actor=CLI,
            encoding=encoding,
        ),
    )


@main.group()
def user() -> None:
    """Users and their roles."""


@user.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The person's name, e.g. 王芳.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="ROLE@group, ROLE@city:CODE or ROLE@office:CODE; repeat for several. Roles: "
    + ", ".join(r.value for r in Role),
)
@click.option("--language", type=click.Choice(["zh_CN", "en"]), default="zh_CN")
@click.option(
    "--supplier",
    "supplier_code",
    default="",
    help="A supplier user's supplier code (供方用户): the account sees only that supplier's "
    "work, and its roles are supplier_user only.",
)
@click.password_option(help="Asked for at the prompt when not given.")
def user_add(
    username: str,
    display_name: str,
    roles: tuple[str, ...],
    language: str,
    supplier_code: str,
    password: str,
) -> None:
    """Add a user who can log in to the dashboards."""
    settings = _settings()
    try:
        grants = [parse_grant(r) for r in roles]
        with unit_of_work(create_db_engine(settings.database_url)) as session:
            view = add_user(
                session,
                CLI,
                username=username,
                display_name=display_name,
                password=password,
                grants=grants,
                language=language,
                supplier_code=supplier_code,
            )
    except DomainError as error:
        fail(error, settings)
    supplier = f" (supplier {view.supplier_code})" if view.supplier_code else ""
    click.echo(f"user {view.username} added: {', '.join(g.label() for g in view.grants)}{supplier}")


@user.command("unlock")
@click.argument("username")
def user_unlock(username: str) -> None:
    """Forget a name's failed logins from every address, so the login throttle lets it in."""
    settings = _settings()
    try:
        with unit_of_work(create_db_engine(settings.database_url)) as session:
            forgotten = unlock(session, CLI, username)
    except DomainError as error:
        fail(error, settings)
    click.echo(t("doors.cli.unlocked", settings.language, username=username, count=forgotten))


@main.command()
@click.option("--offices", default=12, show_default=True, help="How many offices.")
@click.option("--days", default=730, show_default=True, help="Days of history to generate.")
@click.option("--seed", default=7, show_default=True, help="Same seed, same group.")
def demo(offices: int, days: int, seed: int) -> None:
    """Load the demo group (deterministic for a seed); running it again adds nothing twice."""
    settings = _settings()
    upgrade(settings.database_url)
    with progress_shown() as progress:
        options = DemoOptions(
            offices=offices, days=days, seed=seed, now=datetime.now(UTC), progress=progress
        )
        with unit_of_work(create_db_engine(settings.database_url)) as session:
            ensure_group(session, settings.group_code, settings.group_name)
            load_demo(session, options)
    click.echo(t("ops.demo.loaded", settings.language, offices=offices, days=days, seed=seed))
    _print_logins(settings)


def _print_logins(settings: Settings) -> None:
    """The demo logins that exist in this database, with their scopes."""
    names = {username for username, *_ in demo_users("", "")}
    with unit_of_work(create_db_engine(settings.database_url)) as session:
        users = [u for u in list_users(session, CLI) if u.username in names]
    if users:
        click.echo(f"demo logins (password: {DEMO_PASSWORD}):")
    for view in users:
        click.echo(f"  {view.username:<12} {', '.join(g.label() for g in view.grants)}")


@main.group()
def pipeline() -> None:
    """The Dagster pipeline that builds and publishes the warehouse."""


@pipeline.command("run")
@click.option("--as-of", "as_of", default=None, help="Evaluate at this instant (ISO 8601).")
def pipeline_run(as_of: str | None) -> None:
    """Materialise every asset in-process, check the build, and publish it.

    The run is recorded in the installation's Dagster instance (DAGSTER_HOME, the one `serve`
    uses), so the Dagster UI lists it with the scheduled runs.
    """
    import dagster as dg

    from pipelines.run import STARTED_BY, PipelineFailed, run_pipeline

    settings = _settings()
    os.environ.update(prepare_instance(settings))  # Dagster's storage may be PostgreSQL
    home = dagster_home(settings)
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance, progress_shown() as progress:
            published = run_pipeline(
                database_url=settings.database_url,
                warehouse_dir=settings.warehouse_dir,
                as_of=parse_instant(as_of) if as_of else None,
                instance=instance,
                progress=progress,
                tags={STARTED_BY: "cli"},
                keep_versions=settings.warehouse_keep_versions,
            )
    except PipelineFailed as failure:
        click.echo(t("ops.pipeline.not_published", settings.language, reason=failure), err=True)
        sys.exit(1)
    click.echo(t("ops.pipeline.published", settings.language, path=published))


@main.group()
def warehouse() -> None:
    """The published DuckDB warehouse."""


@warehouse.command("path")
def warehouse_path() -> None:
    """Print the path of the current published DuckDB file (open it read-only in BI tools)."""
    from warehouse.publish import Warehouse

    current = Warehouse(_settings().warehouse_dir).current_path()
    if current is None:
        click.echo("no warehouse has been published yet: run `propcloud pipeline run`", err=True)
        sys.exit(1)
    click.echo(str(current))


def server_commands(port: int, dagster_port: int, dagster_host: str) -> list[list[str]]:
    """The dashboards' and the Dagster UI's command lines, as ``serve`` starts them."""
    bin_dir = Path(sys.executable).parent
    dashboards = [
        str(bin_dir / "streamlit"),
        "run",
        str(REPO_ROOT / "dashboards" / "server.py"),  # app.py and its cookie route
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",  # no usage statistics leave the office network
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    dagster = [
        str(bin_dir / "dagster"),
        "dev",
        "-m",
        "pipelines.definitions",
        "-h",
        dagster_host,  # it has no login: this machine only, unless the operator says otherwise
        "-p",
        str(dagster_port),
    ]
    return [dashboards, dagster]


@main.command()
@click.option("--port", default=8501, show_default=True, help="Streamlit port.")
@click.option("--dagster-port", default=3000, show_default=True, help="Dagster UI port.")
@click.option(
    "--dagster-host",
    default=None,
    help="Address the Dagster UI listens on (default: PROPCLOUD_DAGSTER_HOST, else 127.0.0.1 — "
    "this machine only: it has no login; put it behind the single sign-on proxy, "
    "docs/operations.md).",
)
def serve(port: int, dagster_port: int, dagster_host: str | None) -> None:
    """Serve the dashboards (Streamlit) and the Dagster UI with its daemon until Ctrl-C."""
    settings = _settings()
    upgrade(settings.database_url)  # the login page needs the schema, even before any data
    env = dict(os.environ)
    env.update(prepare_instance(settings))
    host = dagster_host or settings.dagster_host
    processes = [
        subprocess.Popen(
            command,
            env=env,
            # Each in its own process group, stopped with all its children (`dagster dev` runs
            # the webserver and the daemon as children).
            start_new_session=True,
        )
        for command in server_commands(port, dagster_port, host)
    ]
    click.echo(f"dashboards: http://localhost:{port}")
    click.echo(
        f"Dagster UI: http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{dagster_port}"
    )
    _print_logins(settings)
    # A service manager stops us with SIGTERM: shut the servers down as on Ctrl-C.
    # A closed terminal (SIGHUP) too: the servers run in their own sessions and would not get it.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.default_int_handler)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        _stop_groups(processes)


@main.group("dagster")
def dagster_services() -> None:
    """Dagster's webserver and daemon as separate services (systemd units: docs/operations.md).

    Each sets up the instance as `serve` does (DAGSTER_HOME, its dagster.yaml, Dagster's
    PostgreSQL database when the operational store is PostgreSQL) and then becomes the Dagster
    process, so a service manager supervises it directly.
    """


@dagster_services.command("webserver")
@click.option("--port", default=3000, show_default=True, help="Port of the Dagster UI.")
@click.option(
    "--host",
    default=None,
    help="Address to listen on (default: PROPCLOUD_DAGSTER_HOST, else 127.0.0.1: no login).",
)
def dagster_webserver(port: int, host: str | None) -> None:
    """The Dagster UI (no login: behind the single sign-on proxy, docs/operations.md)."""
    settings = _settings()
    _become(
        "dagster-webserver",
        ["-m", "pipelines.definitions", "-h", host or settings.dagster_host, "-p", str(port)],
        settings,
    )


@dagster_services.command("daemon")
def dagster_daemon() -> None:
    """The Dagster daemon: schedules, sensors (the refresh on new data) and the run queue."""
    _become("dagster-daemon", ["run", "-m", "pipelines.definitions"], _settings())


def _become(program: str, args: list[str], settings: Settings) -> None:
    env = {**os.environ, **prepare_instance(settings)}
    executable = str(Path(sys.executable).parent / program)
    sys.stdout.flush()
    os.execve(executable, [executable, *args], env)


def _stop_groups(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop each server's whole process group as Ctrl-C would, and wait until none is left:
    when ``serve`` returns, nothing of it still answers (a service manager counts on that)."""
    for p in processes:
        _signal_group(p.pid, signal.SIGINT)
    deadline = time.monotonic() + 20
    for sig in (signal.SIGTERM, signal.SIGKILL):
        while time.monotonic() < deadline and any(_group_alive(p) for p in processes):
            time.sleep(0.2)
        for p in processes:
            if _group_alive(p):
                _signal_group(p.pid, sig)
        deadline = time.monotonic() + 10
    for p in processes:
        p.wait()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_alive(p: subprocess.Popen[bytes]) -> bool:
    p.poll()  # reap the leader if it has exited
    try:
        os.killpg(p.pid, 0)
    except ProcessLookupError:
        return False
    return True


# Commands of each product area, attached to the groups above (one line per area).
def _register_areas() -> None:
    from propcloud import (
        bench_cli,
        calendar_cli,
        energy_cli,
        objects_cli,
        orders_cli,
        property_cli,
        suppliers_cli,
        tickets_cli,
    )

    energy_cli.register(main, import_)
    orders_cli.register(main, import_)
    objects_cli.register(main, import_)
    bench_cli.register(main)
    calendar_cli.register(main, import_)
    suppliers_cli.register(main, import_)
    property_cli.register(main, import_)
    tickets_cli.register(import_)


_register_areas()


if __name__ == "__main__":
    main()
