"""The ``countyos`` command: install, run, demo, users, configuration, audit, backup."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from countyos import __version__, domains
from countyos.core import backup as backup_mod
from countyos.core import migrate
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.errors import CountyError
from countyos.core.settings import Settings, get_settings, reset_settings

app = typer.Typer(help="CountyOS — 县域城市运行平台", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
user_app = typer.Typer(help="User accounts", no_args_is_help=True)
config_app = typer.Typer(help="Configuration", no_args_is_help=True)
audit_app = typer.Typer(help="Audit log", no_args_is_help=True)
mfa_app = typer.Typer(help="Second factor (TOTP)", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(config_app, name="config")
app.add_typer(audit_app, name="audit")
app.add_typer(mfa_app, name="mfa")

CLI_ACTOR = Actor(id=None, name="cli")


@app.callback()
def _root(
    database: Annotated[
        str | None,
        typer.Option(
            "--database", metavar="URL", help="Database URL for this command (instead of COUNTYOS_DATABASE_URL)"
        ),
    ] = None,
) -> None:
    """CountyOS — 县域城市运行平台"""
    if database:
        os.environ["COUNTYOS_DATABASE_URL"] = database  # read by every command, the domains' ones too
    reset_settings()  # settings as the environment says now


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        typer.secho("The configuration is not valid:", fg="red", err=True)
        for e in exc.errors():
            field = ".".join(str(p) for p in e["loc"]) or "settings"
            typer.secho(f"  COUNTYOS_{field.upper()}: {e['msg']}", fg="red", err=True)
        raise typer.Exit(2) from exc


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(message, fg="red", err=True)
    raise typer.Exit(code)


NO_DATABASE = (
    "No CountyOS database at {url}. Run `countyos init` (or `countyos demo`) first, or name the database "
    "with COUNTYOS_DATABASE_URL or `countyos --database URL …`."
)


CHECK_DATABASE = "Check COUNTYOS_DATABASE_URL (or `countyos --database URL …`) and that `countyos init` has run."


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


def _shown(url: str) -> str:
    """A database URL as printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "?"


def _existing_database(settings: Settings) -> Database:
    """The configured database, which must exist and carry the schema: a command that only reads or
    changes a county never creates an empty database file by mistake, and says what to do instead of
    failing with a traceback."""
    url = settings.database_url
    if settings.is_sqlite and not backup_mod.sqlite_path(url).is_file():
        _fail(NO_DATABASE.format(url=url))
    try:
        revision = migrate.current(url)
    except SQLAlchemyError as exc:
        problem = f"{exc.__class__.__name__}: {_first_line(exc)}"
        _fail(f"Cannot use the database at {_shown(url)}: {problem}\n{CHECK_DATABASE}")
    if revision is None:
        _fail(NO_DATABASE.format(url=_shown(url)))
    return Database(url)


def _browser_host(host: str) -> str:
    """The host a browser (and a link in a message) reaches a server listening on ``host`` at."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _follow_address(settings: Settings, host: str, port: int) -> Settings:
    """When the public URL was not configured, the served address is it (links in Open311 answers,
    notifications and printed examples then point at the right host and port)."""
    if "public_url" in settings.model_fields_set:
        return settings
    os.environ["COUNTYOS_PUBLIC_URL"] = f"http://{_browser_host(host)}:{port}"  # also read by worker processes
    reset_settings()
    return _settings()


def _prepare_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite"):
        path = backup_mod.sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)


def setup_database(settings: Settings) -> Database:
    """Create or upgrade the schema and load the permission catalog and built-in roles."""
    from countyos.org import flows

    _prepare_sqlite_dir(settings.database_url)
    migrate.upgrade(settings.database_url)
    db = Database(settings.database_url)
    with db.unit_of_work() as session:
        flows.bootstrap(
            session, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
        )
    return db


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def init(
    admin_username: Annotated[str, typer.Option(help="User name of the first system administrator")] = "admin",
    admin_password: Annotated[str | None, typer.Option(help="Its password (asked for when omitted)")] = None,
    admin_name: Annotated[str, typer.Option(help="Display name")] = "系统管理员",
) -> None:
    """Create or upgrade the database and create the first system administrator."""
    from countyos.org import flows
    from countyos.org.service import users

    settings = _settings()
    db = setup_database(settings)
    with db.unit_of_work() as session:
        if users.get_by_username(session, username=admin_username) is not None:
            typer.echo(f"Database is up to date; user {admin_username} already exists.")
            return
        password = admin_password or typer.prompt(
            "Password for " + admin_username, hide_input=True, confirmation_prompt=True
        )
        try:
            flows.create_person(
                session,
                actor=CLI_ACTOR,
                username=admin_username,
                display_name=admin_name,
                password=password,
                role_codes=["sysadmin"],
            )
        except CountyError as exc:
            typer.secho(str(exc.message), fg="red", err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"Created system administrator {admin_username}. It must change the password and enrol a")
    typer.echo("second factor at first login. Create the security and audit administrators with")
    typer.echo("`countyos user create --role secadmin` and `--role auditadmin`.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[int, typer.Option(help="API worker processes")] = 1,
) -> None:
    """Serve the web application (and, with one worker, the scheduler)."""
    import uvicorn

    from countyos.core.runtime import limit_malloc_arenas

    limit_malloc_arenas()  # before the thread pool exists (see core.runtime)
    settings = _settings()
    host, port = host or settings.host, port or settings.port
    _follow_address(settings, host, port)
    uvicorn.run(
        "countyos.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )


jobs_app = typer.Typer(help="Scheduled jobs: list them, or run one now")
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def jobs_list() -> None:
    """Every scheduled job with how often it runs."""
    db = _existing_database(_settings())
    try:
        with db.reading() as session:
            off = domains.modules_off(session)
    finally:
        db.dispose()
    for job in domains.jobs():
        note = f"  (module {job.module} is off)" if job.module in off else ""
        typer.echo(f"{job.name:<36} every {job.every_seconds:g} s{note}")


@jobs_app.command("run")
def jobs_run(name: Annotated[str, typer.Argument(help="The job's name, as `countyos jobs list` shows it")]) -> None:
    """Run one scheduled job now, once (as the scheduler would), and print what it returned."""
    known = {job.name: job for job in domains.jobs()}
    job = known.get(name)
    if job is None:
        _fail(f"No job named {name}; `countyos jobs list` shows them")
    db = _existing_database(_settings())
    try:
        with db.reading() as session:
            if job.module in domains.modules_off(session):
                _fail(f"The module {job.module} is switched off; its jobs do not run")
        result = job.run(db)
    finally:
        db.dispose()
    typer.echo(f"{name}: {result}")


@app.command()
def worker() -> None:
    """Run scheduled jobs without the web application (for multi-worker deployments)."""
    from countyos import worker as worker_mod

    typer.echo("CountyOS worker running scheduled jobs; Ctrl-C to stop.")
    worker_mod.run(_settings())


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    path: Annotated[Path, typer.Option(help="Where the demo database is created")] = Path("var/demo/countyos.db"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo county and stop")] = False,
) -> None:
    """Load the demonstration county into a fresh database and serve it."""
    import time

    from countyos.core.demo import DemoContext

    started = time.perf_counter()
    path = path.absolute()  # the printed commands work from any folder
    os.environ.setdefault("COUNTYOS_DATABASE_URL", f"sqlite:///{path}")
    os.environ.setdefault("COUNTYOS_ENV", "dev")
    os.environ.setdefault("COUNTYOS_COUNTY_NAME", "遂昌县")
    os.environ.setdefault("COUNTYOS_DATA_DIR", str(path.parent / "data"))
    reset_settings()
    settings = _follow_address(_settings(), host, port)
    if settings.env != "dev":  # checked before anything at PATH is removed
        typer.secho("The demo runs in development mode only (COUNTYOS_ENV=dev).", fg="red", err=True)
        raise typer.Exit(2)
    if path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = setup_database(settings)
    ctx = DemoContext(public_url=settings.public_url, database_url=settings.database_url)
    with db.unit_of_work() as session:
        for mod in domains.modules("demo"):
            mod.load(session, ctx)
    db.dispose()
    typer.echo(
        f"Demo county {settings.county_name} ready in {time.perf_counter() - started:.1f} s ({settings.database_url})."
    )
    typer.echo("Demo accounts (development mode only):")
    for username, password, note in ctx.accounts:
        typer.echo(f"  {username:<10} {password:<18} {note}")
    for note in ctx.notes:
        typer.echo(note)
    typer.echo(f"Open {settings.public_url} and log in.")
    if no_serve:
        return
    import uvicorn

    uvicorn.run("countyos.app:create_app", factory=True, host=host, port=port, log_level="warning")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the latest) and load the permission catalog."""
    settings = _settings()
    if revision == "head":
        setup_database(settings)
    else:
        _prepare_sqlite_dir(settings.database_url)
        migrate.upgrade(settings.database_url, revision)
    typer.echo(f"Database at revision {migrate.current(settings.database_url)}.")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Revert migrations down to REVISION."""
    settings = _settings()
    migrate.downgrade(settings.database_url, revision)
    typer.echo(f"Database at revision {migrate.current(settings.database_url)}.")


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option(help="Display name")],
    role: Annotated[list[str], typer.Option(help="Role code; repeat for several")],
    password: Annotated[str | None, typer.Option()] = None,
    department: Annotated[str | None, typer.Option(help="Department name")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a user with roles (operators at the server console are trusted; the act is audited)."""
    from countyos.org import flows
    from countyos.org.service import departments

    settings = _settings()
    db = _existing_database(settings)
    pw = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with db.unit_of_work() as session:
            dep_id = None
            if department:
                dep = departments.get_by_name(session, name=department)
                if dep is None:
                    raise typer.BadParameter(f"no department named {department}")
                dep_id = dep.id
            user = flows.create_person(
                session,
                actor=CLI_ACTOR,
                username=username,
                display_name=name,
                password=pw,
                role_codes=role,
                department_id=dep_id,
                phone=phone,
            )
            typer.echo(f"Created user {user.username} (id {user.id}) with roles {', '.join(role)}.")
    except CountyError as exc:
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(2) from exc


@config_app.command("check")
def config_check() -> None:
    """Validate the settings and say exactly what is wrong."""
    settings = _settings()
    problems = []
    if settings.is_sqlite:
        path = backup_mod.sqlite_path(settings.database_url)
        if not path.parent.exists():
            problems.append(f"database folder {path.parent} does not exist (countyos init creates it)")
    else:
        from sqlalchemy import text

        try:
            db = Database(settings.database_url)
            with db.reading() as s:
                s.execute(text("SELECT 1"))
            db.dispose()
        except Exception as exc:  # report, do not crash
            problems.append(f"cannot connect to the database: {exc.__class__.__name__}: {exc}")
    if settings.env == "dev":
        typer.echo("Note: development mode (COUNTYOS_ENV=dev); set COUNTYOS_ENV=prod on a real server.")
    for k in ("env", "database_url", "data_dir", "host", "port", "county_name", "default_locale", "mqtt_url"):
        typer.echo(f"  {k} = {getattr(settings, k)}")
    if problems:
        for p in problems:
            typer.secho("  problem: " + p, fg="red", err=True)
        raise typer.Exit(1)
    typer.echo("Configuration OK.")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; names the first row that was altered, removed or reordered."""
    from countyos.org.service import audit

    db = _existing_database(_settings())
    with db.reading() as session:
        result = audit.verify(session)
    if result.ok:
        typer.echo(f"Audit log intact: {result.checked} rows verified.")
        typer.echo(f"Head: row {result.head_seq}, hash {result.head_hash} (keep it to compare with later checks).")
        return
    typer.secho(
        f"Audit log BROKEN at row {result.bad_seq}: {result.reason} ({result.checked} rows verified before it).",
        fg="red",
        err=True,
    )
    raise typer.Exit(1)


@mfa_app.command("code")
def mfa_code(username: Annotated[str, typer.Argument()]) -> None:
    """Print the current TOTP code of a demo account (development mode only)."""
    import pyotp

    from countyos.org.service import users

    settings = _settings()
    if settings.env != "dev":
        typer.secho("Only available in development mode.", fg="red", err=True)
        raise typer.Exit(2)
    db = _existing_database(settings)
    with db.reading() as session:
        user = users.get_by_username(session, username=username)
        if user is None or not user.totp_secret_enc:
            typer.secho("No such user with a second factor.", fg="red", err=True)
            raise typer.Exit(1)
        typer.echo(pyotp.TOTP(users.cipher().decrypt(user.totp_secret_enc)).now())


@app.command("backup")
def backup_cmd(target: Annotated[Path, typer.Argument(help="Backup file to write")]) -> None:
    """Back up the database while it keeps running (SQLite online backup; pg_dump on PostgreSQL)."""
    out = backup_mod.backup(_settings().database_url, target)
    typer.echo(f"Backup written to {out}.")


@app.command("restore")
def restore_cmd(
    source: Annotated[Path, typer.Argument(help="Backup file to read")],
    force: Annotated[bool, typer.Option(help="Replace an existing database")] = False,
) -> None:
    """Restore a backup into the configured database (stop the server first)."""
    settings = _settings()
    try:
        _prepare_sqlite_dir(settings.database_url)
        backup_mod.restore(settings.database_url, source, force=force)
    except CountyError as exc:
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(2) from exc
    typer.echo("Restored. Run `countyos audit verify` to check the audit chain.")


def main() -> None:
    for mod in domains.modules("commands"):
        app.add_typer(mod.app, name=mod.NAME)
        for name, group in getattr(mod, "GROUPS", {}).items():  # extra top-level groups (`countyos grid`)
            app.add_typer(group, name=name)
    try:
        app()
    except CountyError as exc:
        typer.secho(exc.message, fg="red", err=True)
        sys.exit(2)
    except ValidationError as exc:  # settings read by a domain's command
        try:
            _settings()
        except typer.Exit:
            sys.exit(2)
        typer.secho(str(exc), fg="red", err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:  # e.g. a domain's command on a missing database
        try:
            url = _shown(get_settings().database_url)
        except ValidationError:
            url = "?"
        typer.secho(
            f"Cannot use the database at {url}: {exc.__class__.__name__}: {_first_line(exc)}", fg="red", err=True
        )
        typer.secho(CHECK_DATABASE, fg="red", err=True)
        sys.exit(2)
