"""Trusted documents (issue 18, item 5): `kizuna documents register` stores all of a
build's documents or none, and the request path's login only reads them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from kizuna.platform import migrate
from kizuna.platform import trusted_documents as store
from kizuna.platform.cli import main
from kizuna.platform.provisioning import admin_connection
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.urls import DATABASE_NAME, asyncpg_dsn, with_database

CASES = "query TrustedCases { cases(first: 2) { totalCount edges { node { id stage } } } }\n"
CASE_BY_ID = "query TrustedCase($id: ID!) { node(id: $id) { id ... on Case { stage } } }\n"
# Costs first + first²: 6 for 2, 56 for 7, 10,100 for 100 (the limit is 3,000).
CASES_BY_SIZE = (
    "query TrustedCasesBySize($first: Int!) {"
    " cases(first: $first) { edges { node { id contactLogs(first: $first) { edges { node { id } } } } } } }\n"
)
MUTATION = "mutation TrustedNothing { __typename }\n"
REGISTERED = (CASES, CASE_BY_ID, CASES_BY_SIZE, MUTATION)


def document_id(text: str) -> str:
    return f"sha256:{store.document_hash(text)}"


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
