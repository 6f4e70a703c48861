"""The `kizuna` command, as a person runs it: serve on a fresh data directory, tokens, db url,
the demo seed, and what every command says in --help."""

from __future__ import annotations

import argparse
import asyncio
import configparser
import os
import pty
import shlex
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from kizuna.auth import devidp
from kizuna.platform import embedded, provisioning
from kizuna.platform.cli import build_parser, main
from kizuna.platform.settings import DEFAULT_DEV_ISSUER, PROJECT_ROOT
from kizuna.platform.urls import DATABASE_NAME, with_database
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants import demo_users

KOCHI_CITY = "392014"


def run_cli(
    *args: str, data_dir: Path, prefecture: str = "39", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kizuna.platform.cli", *args],
        env=os.environ | {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": prefecture} | (env or {}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_tenants_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenants", "list", "--prefecture", "39"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 35
    assert lines[0].split("\t") == ["390003", "高知県", "こうちけん", "prefecture"]
    assert lines[1].split("\t")[:2] == ["392014", "高知市"]


def test_tenants_list_refuses_unknown_prefecture(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenants", "list", "--prefecture", "48"]) == 2
    assert "unknown prefecture" in capsys.readouterr().err


def test_tenants_list_any_prefecture(capsys: pytest.CaptureFixture[str]) -> None:
    """Every prefecture is registered: Tokyo's own row first, then its special wards and the rest."""
    assert main(["tenants", "list", "--prefecture", "13"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["130001\t東京都\tとうきょうと\tprefecture", "131016\t千代田区\tちよだく\tspecial_ward"]
    assert len(lines) == 1 + 62


def test_dev_token_refuses_bad_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev-token", "--role", "caseworker", "--municipality", "111008"]) == 2
    assert "not a local-government code" in capsys.readouterr().err


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, kizuna_serve: Any) -> Iterator[tuple[str, Path]]:
    """`kizuna serve` for Kochi on a fresh data directory: migrates, seeds, serves."""
    data_dir = tmp_path_factory.mktemp("serve")
    with kizuna_serve({"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": "39"}) as (process, url):
        yield url, data_dir
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output
    # the embedded server stopped with it
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()


def test_serve_answers_a_signed_in_caseworker(served: tuple[str, Path]) -> None:
    url, data_dir = served
    token = run_cli("dev-token", "--role", "caseworker", "--municipality", KOCHI_CITY, data_dir=data_dir)
    assert token.returncode == 0, token.stderr
    response = httpx.post(
        f"{url}/graphql",
        json={"query": "{ viewer { municipality { name } } cases(first: 5) { totalCount edges { node { id } } } }"},
        headers={"authorization": f"Bearer {token.stdout.strip()}"},
    )
    body = response.json()
    assert body["data"]["viewer"]["municipality"]["name"] == "高知市"
    assert body["data"]["cases"]["totalCount"] > 0
    assert httpx.get(f"{url}/readyz").json()["status"] == "ready"


def test_serve_signs_a_person_in_through_the_browser(served: tuple[str, Path], forms: Any) -> None:
    """No IdP configured and no other software: the development IdP's page, a demo user,
    a session, a GraphQL answer."""
    url, _ = served
    with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as browser:
        page = browser.get("/auth/login")
        while page.is_redirect:
            page = browser.get(page.headers["location"])
        assert "高知市" in page.text
        (form,) = forms(page.text)
        picked = browser.post(
            str(page.url.join(form["action"])), data=form["fields"] | {"subject": f"demo:caseworker:{KOCHI_CITY}"}
        )
        assert browser.get(picked.headers["location"]).status_code == 303
        response = browser.post(
            "/graphql", json={"query": "{ viewer { municipality { name } } }"}, headers={"origin": url}
        )
    assert response.json()["data"]["viewer"]["municipality"]["name"] == "高知市"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KIZUNA_IDPS": "staff"}, "discovery_url"),
        ({"KIZUNA_ENV": "production"}, "KIZUNA_IDP_FILE"),
        ({"KIZUNA_IDP_FILE": "/nonexistent/idp.toml"}, "KIZUNA_IDP_FILE"),
        (
            {
                "KIZUNA_ENV": "production",
                "KIZUNA_IDPS": "staff",
                "KIZUNA_IDP_STAFF_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration",
                "KIZUNA_IDP_STAFF_CLIENT_ID": "kizuna",
                "KIZUNA_IDP_STAFF_AUDIENCE": "kizuna",
                "KIZUNA_IDP_STAFF_ROLES": "caseworker",
            },
            "KIZUNA_SESSION_SECRET",
        ),
    ],
)
def test_serve_refuses_a_bad_sign_in_configuration(tmp_path: Path, env: dict[str, str], message: str) -> None:
    """Refused before anything starts: no database, no port, a message naming the setting."""
    result = run_cli("serve", data_dir=tmp_path, env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "pgdata").exists()


def test_serve_refuses_fewer_than_one_worker(tmp_path: Path) -> None:
    result = run_cli("serve", "--workers", "0", data_dir=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (2, "kizuna serve: --workers must be at least 1")
    assert not (tmp_path / "pgdata").exists()


def test_db_url_is_the_unprivileged_login(served: tuple[str, Path]) -> None:
    _, data_dir = served
    result = run_cli("db", "url", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("postgresql://kizuna_app")


def admin_url(data_dir: Path) -> str:
    """The administrative URL of the embedded server `served` runs."""
    server = embedded.running_url(data_dir / "pgdata")
    assert server is not None
    return with_database(server, DATABASE_NAME)


def grant(data_dir: Path, subject: str, municipality: str = KOCHI_CITY) -> None:
    """A caseworker membership for `subject` at the development IdP, onboarded as an administrator would."""

    async def run() -> None:
        async with provisioning.admin_connection(admin_url(data_dir)) as conn:
            ids = await provisioning.upsert_users(
                conn, [provisioning.UserRow(uuid.uuid4(), DEFAULT_DEV_ISSUER, subject)]
            )
            row = provisioning.MembershipRow(
                uuid.uuid4(),
                ids[(DEFAULT_DEV_ISSUER, subject)],
                "テスト 職員",
                AppRole.CASEWORKER,
                demo_users.organisation_id(municipality, "department"),
            )
            await provisioning.add_memberships(conn, municipality, [row])

    asyncio.run(run())


def viewer(url: str, token: str) -> httpx.Response:
    return httpx.post(
        f"{url}/graphql",
        json={"query": "{ viewer { subject role } }"},
        headers={"authorization": f"Bearer {token}"},
    )


def test_every_option_has_a_description() -> None:
    def undescribed(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
        for action in parser._actions:
            if not action.help:
                yield f"{path} {action.dest}"
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if not choice.help:
                        yield f"{path} {choice.dest}"
                for name, sub in action.choices.items():
                    yield from undescribed(sub, f"{path} {name}")

    assert list(undescribed(build_parser(), "kizuna")) == []


HEAVY = ("strawberry", "sqlalchemy", "asyncpg", "alembic", "faker", "uvicorn", "kizuna.schema", "kizuna.tenants.demo")


@pytest.mark.parametrize(
    "argv",
    [
        ["tenants", "list"],
        ["dev-token", "--role", "caseworker", "--municipality", KOCHI_CITY],
        ["dev-client", "--municipality", KOCHI_CITY],
    ],
)
def test_plain_commands_import_no_heavy_module(tmp_path: Path, argv: list[str]) -> None:
    """What makes a command slow to start: the schema, SQLAlchemy, the database drivers, the seeding code."""
    script = (
        "import contextlib, io, sys\n"
        "from kizuna.platform.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main({argv!r}) == 0\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r}))\n"
    )
    env = os.environ | {"KIZUNA_DATA_DIR": str(tmp_path), "KIZUNA_PREFECTURE": "39"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_dev_token_for_a_subject_with_a_membership(served: tuple[str, Path]) -> None:
    url, data_dir = served
    grant(data_dir, "test:granted")
    result = run_cli("dev-token", "--subject", "test:granted", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert viewer(url, result.stdout.strip()).json()["data"]["viewer"] == {
        "subject": "test:granted",
        "role": "CASEWORKER",
    }


def test_dev_token_refuses_a_subject_without_a_membership(served: tuple[str, Path]) -> None:
    url, data_dir = served
    result = run_cli("dev-token", "--subject", "test:nobody", data_dir=data_dir)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "holds no active membership" in result.stderr
    # what it would have printed: a token the server refuses
    assert viewer(url, dev_token(data_dir, "test:nobody")).status_code == 403


def dev_token(data_dir: Path, subject: str, *, ttl_seconds: int = 60) -> str:
    """A token for `subject` signed with the data directory's development key."""
    return devidp.issue_access_token(
        devidp.load_or_create_key(data_dir),
        issuer=DEFAULT_DEV_ISSUER,
        audience="kizuna",
        subject=subject,
        scope="openid",
        ttl_seconds=ttl_seconds,
        client_id="kizuna-tests",
    )


def test_dev_token_for_a_subject_needs_a_running_database(tmp_path: Path) -> None:
    result = run_cli("dev-token", "--subject", "demo:caseworker:392014", data_dir=tmp_path)
    assert result.returncode == 2
    assert "not running: start kizuna serve" in result.stderr
    assert not (tmp_path / "pgdata").exists()  # nothing was started


def test_dev_token_refuses_a_subject_with_a_demo_role(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev-token", "--subject", "x", "--role", "caseworker"]) == 2
    assert "either --subject or --role" in capsys.readouterr().err


def test_db_url_prints_only_the_url_and_it_reads_no_table(served: tuple[str, Path]) -> None:
    _, data_dir = served
    result = run_cli("db", "url", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("postgresql://kizuna_app@/kizuna?host=")  # no password: the socket trusts local logins

    async def read(dsn: str) -> int:
        conn = await asyncpg.connect(dsn)
        try:
            count: int = await conn.fetchval("SELECT count(*) FROM kizuna.municipality")
            return count
        finally:
            await conn.close()

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        asyncio.run(read(line))
    admin = run_cli("db", "url", "--admin", data_dir=data_dir)
    assert admin.returncode == 0, admin.stderr
    assert asyncio.run(read(admin.stdout.strip())) == 35
    assert "kizuna.begin_request" in run_cli("db", "url", "--help", data_dir=data_dir).stdout


def test_db_url_never_prints_the_administrative_password(served: tuple[str, Path]) -> None:
    _, data_dir = served
    with_password = make_url(admin_url(data_dir)).set(password="admin-secret").render_as_string(hide_password=False)
    result = run_cli("db", "url", data_dir=data_dir, env={"DATABASE_URL": with_password})
    assert result.returncode == 0, result.stderr
    assert "admin-secret" not in result.stdout + result.stderr
    assert result.stdout.startswith("postgresql://kizuna_app@")


def test_db_url_admin_is_for_development_only(tmp_path: Path) -> None:
    result = run_cli("db", "url", "--admin", data_dir=tmp_path, env={"KIZUNA_ENV": "production"})
    assert result.returncode == 2
    assert "development only" in result.stderr
    assert not (tmp_path / "pgdata").exists()


def tenant_rows(data_dir: Path) -> dict[str, int]:
    async def run() -> dict[str, int]:
        async with provisioning.admin_connection(admin_url(data_dir)) as conn:
            rows = await conn.fetch("SELECT municipality_code, count(*) FROM kizuna.carer_case GROUP BY 1")
            return {r[0]: r[1] for r in rows}

    return asyncio.run(run())


def test_stats_refresh_publishes_every_figure_of_the_prefecture(served: tuple[str, Path]) -> None:
    """Over the administrative connection, as `kizuna_stats`: one line for Kochi, its time
    of computation, how many figures it published and how many groups of tables it put
    through the disclosure control (all of them, the first time; serve's own schedule is
    off here)."""
    _, data_dir = served
    result = run_cli("stats", "refresh", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if "\t" in line]
    prefecture, computed_at, figures, protected, edition = line.split("\t")
    assert prefecture == "39"
    assert figures.endswith(" figures")
    assert int(figures.split()[0]) > 1000
    assert protected.endswith(" tables protected anew")
    assert int(protected.split()[0]) >= 4
    assert computed_at.startswith("20")
    assert edition.startswith(f"counts of {computed_at}, next edition ")
    # Within the interval the counts stay those of that edition; --publish counts them anew
    # (nothing changed: no table is protected again).
    for flags, counted_now in (((), False), (("--publish",), True)):
        again = run_cli("stats", "refresh", *flags, data_dir=data_dir)
        assert again.returncode == 0, again.stderr
        (line,) = [line for line in again.stdout.splitlines() if "\t" in line]
        _, at, _, protected, edition = line.split("\t")
        assert protected == "0 tables protected anew"
        assert edition.startswith(f"counts of {at if counted_now else computed_at},")


def test_the_daily_come_of_age_unit_runs_and_catches_up_once(served: tuple[str, Path]) -> None:
    """deploy/systemd's timer runs its service's command daily: the command exists as
    written, runs over the administrative connection, and a second run the same day finds
    nobody left (a missed or repeated day writes each birthday once)."""
    _, data_dir = served
    units = PROJECT_ROOT / "deploy" / "systemd"
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(units / "kizuna-come-of-age.service")
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(units / "kizuna-come-of-age.timer")
    assert timer["Timer"]["OnCalendar"].endswith("Asia/Tokyo")
    assert timer["Timer"]["Persistent"] == "yes"
    program, *argv = shlex.split(service["Service"]["ExecStart"])
    assert program.endswith("/kizuna")
    first = run_cli(*argv, data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    again = run_cli(*argv, data_dir=data_dir)
    assert (again.returncode, again.stdout.strip()) == (0, "Nobody turned 18.")


def test_demo_seed_on_seeded_data_says_so(served: tuple[str, Path]) -> None:
    _, data_dir = served
    result = run_cli("demo", "seed", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "already there" in result.stdout
    assert "kizuna demo seed --reset" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--reset"], {}, "pass --yes"),
        (["--reset", "--yes"], {"KIZUNA_ENV": "production"}, "development only"),
        ([], {"KIZUNA_ENV": "production"}, "development only"),
    ],
)
def test_demo_seed_refuses(served: tuple[str, Path], args: list[str], env: dict[str, str], message: str) -> None:
    """--reset without a terminal to confirm on and without --yes; any seeding outside development."""
    _, data_dir = served
    before = tenant_rows(data_dir)
    result = subprocess.run(
        [sys.executable, "-m", "kizuna.platform.cli", "demo", "seed", *args],
        env=os.environ | {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": "39"} | env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert tenant_rows(data_dir) == before


def test_demo_seed_reset_asks_on_a_terminal(served: tuple[str, Path]) -> None:
    _, data_dir = served
    before = tenant_rows(data_dir)
    controller, terminal = pty.openpty()
    with os.fdopen(controller, "wb", buffering=0) as keyboard:
        process = subprocess.Popen(
            [sys.executable, "-m", "kizuna.platform.cli", "demo", "seed", "--reset"],
            env=os.environ | {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": "39"},
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        os.close(terminal)
        keyboard.write(b"n\n")
        _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert "Nothing removed" in err.decode()
    assert tenant_rows(data_dir) == before


def test_demo_seed_reset_starts_afresh(served: tuple[str, Path]) -> None:
    url, data_dir = served
    before = tenant_rows(data_dir)
    grant(data_dir, "test:before-reset")
    result = run_cli("demo", "seed", "--reset", "--yes", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "Removed the demo data" in result.stdout
    assert "Seeded 35 tenants" in result.stdout
    assert tenant_rows(data_dir) == before  # the same seed gives the same demo data
    refused = run_cli("dev-token", "--subject", "test:before-reset", data_dir=data_dir)
    assert refused.returncode == 2  # what was added since is gone
    token = run_cli("dev-token", "--role", "caseworker", "--municipality", KOCHI_CITY, data_dir=data_dir)
    assert viewer(url, token.stdout.strip()).status_code == 200  # the running server answers from the new seed


def test_a_database_at_head_is_not_migrated_again(served: tuple[str, Path]) -> None:
    """A restart asks the revision and loads neither the migration environment nor the models."""
    _, data_dir = served
    script = (
        "import sys\n"
        "from kizuna.platform import migrate\n"
        f"migrate.upgrade({admin_url(data_dir)!r})\n"
        "print(sorted(m for m in sys.modules if m in ('kizuna.platform.models', 'sqlalchemy.orm')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
