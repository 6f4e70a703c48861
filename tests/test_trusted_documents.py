"""Trusted documents (issue 18, item 5): registered documents run by their hash over real
HTTP, with nothing bypassed; `KIZUNA_TRUSTED_DOCUMENTS=only` runs nothing else but the
server's own pages; `kizuna documents register` stores all of a build's documents or none."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from kizuna.platform import migrate
from kizuna.platform import trusted_documents as store
from kizuna.platform.app import create_app
from kizuna.platform.cli import main
from kizuna.platform.provisioning import admin_connection
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.settings import Settings, SettingsError
from kizuna.platform.urls import DATABASE_NAME, asyncpg_dsn, with_database
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.cost import MAX_COST
from kizuna.tests.pages.conftest import NAVIGATION, sign_in

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
CASES = "query TrustedCases { cases(first: 2) { totalCount edges { node { id stage } } } }\n"
CASE_BY_ID = "query TrustedCase($id: ID!) { node(id: $id) { id ... on Case { stage } } }\n"
# Costs first + first²: 6 for 2, 56 for 7, 10,100 for 100 (the limit is 3,000).
CASES_BY_SIZE = (
    "query TrustedCasesBySize($first: Int!) {"
    " cases(first: $first) { edges { node { id contactLogs(first: $first) { edges { node { id } } } } } } }\n"
)
MUTATION = "mutation TrustedNothing { __typename }\n"
REGISTERED = (CASES, CASE_BY_ID, CASES_BY_SIZE, MUTATION)
NOT_REGISTERED = "query NotRegistered { cases(first: 1) { totalCount } }"


def document_id(text: str) -> str:
    return f"sha256:{store.document_hash(text)}"


def persisted_query(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": store.document_hash(text)}}


async def _register(admin: str, client: str, texts: tuple[str, ...]) -> None:
    async with admin_connection(admin) as conn:
        await store.register(conn, client, [store.Submitted("test", None, text) for text in texts])


async def _unregister(admin: str, client: str) -> None:
    async with admin_connection(admin) as conn:
        await store.remove(conn, client, None)


@pytest.fixture(scope="module")
def registered(urls: DatabaseUrls, server: Any) -> Iterator[str]:
    """REGISTERED in the store for a client of this module, once the suite's server runs:
    it finds them at their first request."""
    client = f"test-{uuid.uuid4().hex[:8]}"
    asyncio.run(_register(urls.admin, client, REGISTERED))
    yield client
    asyncio.run(_unregister(urls.admin, client))


@pytest.fixture
def send(http: httpx.Client, token: Callable[..., str]) -> Callable[..., httpx.Response]:
    """`(method, role, municipality, **params)`: a GraphQL request with a demo user's token;
    for GET, `variables` and `extensions` go as JSON in the query string."""

    def request(method: str, role: AppRole, municipality: str, **params: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {token(role, municipality)}"}
        if method == "GET":
            query = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
            return http.get("/graphql", params=query, headers=headers)
        return http.post("/graphql", json=params, headers=headers)

    return request


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


@pytest.mark.usefixtures("registered")
class TestByHash:
    @pytest.mark.parametrize("method", ["POST", "GET"])
    def test_a_registered_document_answers_as_its_text_does(self, send: Any, method: str) -> None:
        by_text = send("POST", AppRole.CASEWORKER, SAITAMA_CITY, query=CASES).json()
        assert by_text["data"]["cases"]["totalCount"] > 0
        for params in ({"documentId": document_id(CASES)}, {"extensions": persisted_query(CASES)}):
            response = send(method, AppRole.CASEWORKER, SAITAMA_CITY, **params)
            assert response.status_code == 200, response.text
            assert response.json()["data"] == by_text["data"]

    def test_an_unknown_hash_is_refused_and_nothing_runs(self, send: Any) -> None:
        for params in ({"documentId": document_id(NOT_REGISTERED)}, {"extensions": persisted_query(NOT_REGISTERED)}):
            response = send("POST", AppRole.CASEWORKER, SAITAMA_CITY, **params)
            assert (response.status_code, code_of(response)) == (400, "PERSISTED_QUERY_NOT_FOUND")
            assert "data" not in response.json()

    def test_a_hash_that_is_not_the_texts_is_refused(self, send: Any) -> None:
        response = send("POST", AppRole.CASEWORKER, SAITAMA_CITY, query=NOT_REGISTERED, documentId=document_id(CASES))
        assert (response.status_code, code_of(response)) == (400, "BAD_USER_INPUT")
        assert "data" not in response.json()

    @pytest.mark.parametrize(
        "params",
        [
            {"documentId": store.document_hash(CASES)},  # no `sha256:`
            {"documentId": document_id(CASES).upper()},
            {"documentId": "md5:" + "0" * 32},
            {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": store.document_hash(CASES)}}},
            {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "not a hash"}}},
            {"documentId": document_id(CASES), "extensions": persisted_query(CASE_BY_ID)},
        ],
    )
    def test_a_malformed_id_is_refused(self, send: Any, params: dict[str, Any]) -> None:
        response = send("POST", AppRole.CASEWORKER, SAITAMA_CITY, **params)
        assert (response.status_code, code_of(response)) == (400, "BAD_USER_INPUT")

    def test_without_credentials_a_hash_is_refused(self, http: httpx.Client) -> None:
        response = http.post("/graphql", json={"documentId": document_id(CASES)})
        assert (response.status_code, code_of(response)) == (401, "UNAUTHENTICATED")

    def test_another_tenants_case_stays_unknown(self, send: Any) -> None:
        theirs = send("POST", AppRole.CASEWORKER, KAWAGOE, query=CASES).json()["data"]["cases"]["edges"][0]["node"]
        owner = send("POST", AppRole.CASEWORKER, KAWAGOE, documentId=document_id(CASE_BY_ID), variables=theirs)
        assert owner.json()["data"]["node"] == theirs
        crossed = send("POST", AppRole.CASEWORKER, SAITAMA_CITY, documentId=document_id(CASE_BY_ID), variables=theirs)
        assert crossed.json()["data"] == {"node": None}
        assert code_of(crossed) == "NOT_FOUND"

    def test_the_cost_limit_holds(self, send: Any) -> None:
        by_hash = {"documentId": document_id(CASES_BY_SIZE)}
        small = send("POST", AppRole.CASEWORKER, SAITAMA_CITY, **by_hash, variables={"first": 2})
        assert small.json()["extensions"]["cost"]["requested"] == 6
        big = send("POST", AppRole.CASEWORKER, SAITAMA_CITY, **by_hash, variables={"first": 100})
        assert (big.status_code, code_of(big)) == (400, "BAD_USER_INPUT")
        assert big.json()["errors"][0]["extensions"]["cost"] == {"requested": 10_100, "limit": MAX_COST}
        assert "data" not in big.json()

    def test_a_mutation_by_hash_needs_post_as_its_text_does(self, send: Any) -> None:
        response = send("GET", AppRole.CASEWORKER, SAITAMA_CITY, documentId=document_id(MUTATION))
        assert (response.status_code, response.headers["allow"]) == (405, "POST")


@pytest.mark.usefixtures("registered")
def test_the_rate_limit_holds(settings: Settings, urls: DatabaseUrls, signing_key: Any, serve: Any, token: Any) -> None:
    """A server allowing 60 points a minute: the second request of cost 56 waits for its turn."""
    limited = Settings.from_env({**settings.environ, "KIZUNA_RATE_LIMIT": "60"})
    headers = {"authorization": f"Bearer {token(AppRole.CASEWORKER, SAITAMA_CITY)}"}
    body = {"documentId": document_id(CASES_BY_SIZE), "variables": {"first": 7}}
    with serve(create_app(limited, urls.app, dev_key=signing_key)) as running:
        first = httpx.post(f"{running.url}/graphql", json=body, headers=headers, timeout=30)
        second = httpx.post(f"{running.url}/graphql", json=body, headers=headers, timeout=30)
    assert first.json()["extensions"]["cost"]["requested"] == 56
    assert (second.status_code, code_of(second)) == (429, "RATE_LIMITED")


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(SettingsError, match="KIZUNA_TRUSTED_DOCUMENTS='registered'"):
        Settings.from_env({"KIZUNA_TRUSTED_DOCUMENTS": "registered"})


@pytest.fixture(scope="module")
def only_registered(
    settings: Settings, urls: DatabaseUrls, signing_key: Any, serve: Any, registered: str
) -> Iterator[httpx.Client]:
    """A server of `KIZUNA_TRUSTED_DOCUMENTS=only`, started once REGISTERED are."""
    only = Settings.from_env({**settings.environ, "KIZUNA_TRUSTED_DOCUMENTS": "only"})
    with (
        serve(create_app(only, urls.app, dev_key=signing_key)) as running,
        httpx.Client(base_url=running.url, timeout=30) as client,
    ):
        yield client


class TestOnlyRegistered:
    def test_a_text_not_registered_is_refused_and_nothing_runs(
        self, only_registered: httpx.Client, token: Callable[..., str]
    ) -> None:
        headers = {"authorization": f"Bearer {token(AppRole.CASEWORKER, SAITAMA_CITY)}"}
        response = only_registered.post("/graphql", json={"query": NOT_REGISTERED}, headers=headers)
        assert (response.status_code, code_of(response)) == (400, "PERSISTED_QUERY_NOT_IN_LIST")
        assert "data" not in response.json()

    def test_registered_documents_run_by_hash_or_by_their_text(
        self, only_registered: httpx.Client, token: Callable[..., str]
    ) -> None:
        headers = {"authorization": f"Bearer {token(AppRole.CASEWORKER, SAITAMA_CITY)}"}
        for body in ({"documentId": document_id(CASES)}, {"query": CASES}):
            response = only_registered.post("/graphql", json=body, headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["data"]["cases"]["totalCount"] > 0

    def test_the_servers_own_pages_and_exports_run(
        self, only_registered: httpx.Client, token: Callable[..., str], user: Any, forms: Any
    ) -> None:
        headers = {"authorization": f"Bearer {token(AppRole.PREFECTURE_ANALYST, '110001')}"}
        assert only_registered.get("/exports/indicators.csv", headers=headers).status_code == 200
        supervisor = user(AppRole.SUPERVISOR, SAITAMA_CITY)
        with httpx.Client(base_url=str(only_registered.base_url), timeout=30) as browser:
            sign_in(browser, forms, supervisor.subject)
            for page in ("/", "/desk"):
                assert browser.get(page, headers=NAVIGATION).status_code == 200, page


@contextlib.contextmanager
def _fresh_database(server_url: str) -> Iterator[str]:
    """The `kizuna` database `kizuna documents` migrates and uses, dropped after."""
    admin = asyncio.run(migrate.ensure_database(server_url))
    try:
        yield admin
    finally:

        async def drop() -> None:
            async with admin_connection(with_database(server_url, "postgres")) as conn:
                await conn.execute(f"DROP DATABASE {DATABASE_NAME} WITH (FORCE)")

        asyncio.run(drop())


def test_the_command_registers_every_document_of_a_build_or_none(
    server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cases.graphql").write_text(CASES)
    (tmp_path / "relay.json").write_text(json.dumps({store.document_hash(CASE_BY_ID): CASE_BY_ID}))
    apollo = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {
                "id": store.document_hash(CASES_BY_SIZE),
                "name": "TrustedCasesBySize",
                "type": "query",
                "body": CASES_BY_SIZE,
            }
        ],
    }
    (tmp_path / "apollo.json").write_text(json.dumps(apollo))
    (tmp_path / "invalid.graphql").write_text("query Invalid { cases(first: 1) { noSuchField } }")
    (tmp_path / "introspection.graphql").write_text("query Schema { __schema { types { name } } }")
    (tmp_path / "wrong-hash.json").write_text(json.dumps({"sha256:" + "0" * 64: CASES}))
    files = [str(tmp_path / name) for name in ("cases.graphql", "relay.json", "apollo.json")]
    bad = [str(tmp_path / name) for name in ("invalid.graphql", "introspection.graphql", "wrong-hash.json")]
    assert main(["documents", "register", "--client", " ", *files]) == 2
    assert "--client must name the client" in capsys.readouterr().err
    with _fresh_database(server_url) as admin:
        monkeypatch.setenv("DATABASE_URL", admin)
        monkeypatch.setenv("KIZUNA_DATA_DIR", str(tmp_path))

        assert main(["documents", "register", "--client", "kawagoe-sync-1", *files, *bad]) == 1
        refused = capsys.readouterr().err
        assert "invalid.graphql: Cannot query field 'noSuchField'" in refused
        assert "introspection.graphql: GraphQL introspection has been disabled" in refused
        assert "is not the SHA-256 of its text" in refused
        assert main(["documents", "list"]) == 0
        assert capsys.readouterr().out == ""  # nothing stored

        assert main(["documents", "register", "--client", "kawagoe-sync-1", *files]) == 0
        assert main(["documents", "register", "--client", "kawagoe-sync-1", *files]) == 0
        assert capsys.readouterr().out.splitlines() == [
            "3 registered for kawagoe-sync-1, 0 already were.",
            "0 registered for kawagoe-sync-1, 3 already were.",
        ]
        assert main(["documents", "list", "--client", "kawagoe-sync-1"]) == 0
        listed = {line.split("\t")[0]: line.split("\t")[3] for line in capsys.readouterr().out.splitlines()}
        assert listed == {
            document_id(CASES): "query TrustedCases",
            document_id(CASE_BY_ID): "query TrustedCase",
            document_id(CASES_BY_SIZE): "query TrustedCasesBySize",
        }
        assert main(["documents", "remove", "--client", "kawagoe-sync-1", document_id(CASES)]) == 0
        assert main(["documents", "list"]) == 0
        removed, *left = capsys.readouterr().out.splitlines()
        assert removed.startswith("1 removed for kawagoe-sync-1;")
        assert {line.split("\t")[0] for line in left} == {document_id(CASE_BY_ID), document_id(CASES_BY_SIZE)}


async def test_the_request_path_only_reads_the_store(urls: DatabaseUrls) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(urls.app))
    try:
        await conn.fetch("SELECT hash FROM kizuna.trusted_document LIMIT 1")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "INSERT INTO kizuna.trusted_document (hash, client, document) VALUES ($1, 'x', 'y')", "0" * 64
            )
    finally:
        await conn.close()


async def test_the_store_holds_each_hash_to_its_text(admin_conn: asyncpg.Connection) -> None:
    """Whoever writes the table: the command computes each hash, the database checks it."""
    insert = "INSERT INTO kizuna.trusted_document (hash, client, document) VALUES ($1, 'test-check', $2)"
    transaction = admin_conn.transaction()
    await transaction.start()
    try:
        await admin_conn.execute(insert, store.document_hash("ケース"), "ケース")  # of the UTF-8, as clients hash
        with pytest.raises(asyncpg.CheckViolationError):
            await admin_conn.execute(insert, store.document_hash(CASES), NOT_REGISTERED)
    finally:
        await transaction.rollback()
