"""The trusted documents' store (issue 18, item 5): what `kizuna documents` reads from a
client's build and writes over the administrative connection.

A document is known by its hash, the SHA-256 of its exact UTF-8 text in lower-case hex (the
GraphQL-over-HTTP persisted documents' `sha256:` identifier, Apollo's `sha256Hash`). The
request path only reads the store (`Database.trusted_documents`); checking a document
against the schema is the GraphQL layer's (`schema/trusted_documents.py`), so the command
composes the two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

HASH_PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-f]{64}")
APOLLO_MANIFEST = "apollo-persisted-query-manifest"
GRAPHQL_SUFFIXES = (".graphql", ".gql")
MAX_CLIENT_NAME = 100
"""Characters of a client's name (the table's CHECK)."""


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def parse_hash(value: str) -> str | None:
    """The lower-case hex of `sha256:<hex>` or of a bare `<hex>`; None if it is neither."""
    hex_digest = value.removeprefix(HASH_PREFIX)
    return hex_digest if _HEX.fullmatch(hex_digest) else None


class ManifestError(ValueError):
    """A file that holds no documents Kizuna can read; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class Submitted:
    """A document as a client's build gave it: where from, the hash it was given (None for
    a `.graphql` file, which has none), and its text."""

    source: str
    claimed_hash: str | None
    text: str

    @property
    def hash(self) -> str:
        return document_hash(self.text)


def read_documents(path: Path) -> list[Submitted]:
    """The documents of one file: a `.graphql` file is one document (its whole text); a JSON
    file is either a map of hash to text (Relay's persisted queries with SHA-256, GraphQL
    Code Generator's `persisted-documents.json`) or Apollo's persisted query manifest."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot be read ({exc})") from None
    if path.suffix in GRAPHQL_SUFFIXES:
        return [Submitted(str(path), None, content)]
    try:
        manifest = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path}: neither a .graphql file nor JSON ({exc})") from None
    if isinstance(manifest, dict) and manifest.get("format") == APOLLO_MANIFEST:
        return _apollo_manifest(path, manifest)
    if not isinstance(manifest, dict) or not all(isinstance(v, str) for v in manifest.values()):
        raise ManifestError(f"{path}: expected a JSON object of hash to document text, or {APOLLO_MANIFEST}")
    return [Submitted(f"{path}: {key}", key, text) for key, text in manifest.items()]


def _apollo_manifest(path: Path, manifest: dict[str, object]) -> list[Submitted]:
    operations = manifest.get("operations")
    if manifest.get("version") != 1 or not isinstance(operations, list):
        raise ManifestError(f"{path}: an {APOLLO_MANIFEST} of version 1 with its `operations` is expected")
    found = []
    for index, operation in enumerate(operations):
        fields = (operation.get("id"), operation.get("body")) if isinstance(operation, dict) else (None, None)
        if not all(isinstance(field, str) for field in fields):
            raise ManifestError(f"{path}: operations[{index}] has no `id` and `body` strings")
        found.append(Submitted(f"{path}: {operation.get('name') or index}", operation["id"], operation["body"]))
    return found


def hash_problem(document: Submitted) -> str | None:
    """Why the hash a document was given is not its own, if it is not."""
    if document.claimed_hash is None:
        return None
    claimed = parse_hash(document.claimed_hash)
    if claimed is None:
        return f"{document.claimed_hash!r} is not a SHA-256 (64 hex digits, optionally after `sha256:`)"
    if claimed != document.hash:
        return f"{document.claimed_hash} is not the SHA-256 of its text ({document.hash}): another hash function?"
    return None


@dataclass(frozen=True, slots=True)
class Registered:
    hash: str
    client: str
    registered_at: dt.datetime
    text: str


async def register(conn: asyncpg.Connection, client: str, documents: Sequence[Submitted]) -> int:
    """Store `documents` for `client` in one transaction; how many were not registered for
    it already (the same hash is the same text, so registering again changes nothing)."""
    async with conn.transaction():
        added = await conn.fetch(
            "INSERT INTO kizuna.trusted_document (hash, client, document)"
            " SELECT hash, $1, document FROM unnest($2::text[], $3::text[]) AS d(hash, document)"
            " ON CONFLICT (hash, client) DO NOTHING RETURNING hash",
            client,
            [d.hash for d in documents],
            [d.text for d in documents],
        )
    return len(added)


async def registered(conn: asyncpg.Connection, client: str | None = None) -> list[Registered]:
    """Every registration (or `client`'s), oldest first."""
    rows = await conn.fetch(
        "SELECT hash, client, registered_at, document FROM kizuna.trusted_document"
        " WHERE $1::text IS NULL OR client = $1 ORDER BY registered_at, client, hash",
        client,
    )
    return [Registered(r["hash"], r["client"], r["registered_at"], r["document"]) for r in rows]


async def remove(conn: asyncpg.Connection, client: str, hashes: Sequence[str] | None) -> int:
    """Remove `client`'s registration of `hashes` (None: of all its documents); how many
    went. Another client's registration of the same document stays."""
    status: str = await conn.execute(
        "DELETE FROM kizuna.trusted_document WHERE client = $1 AND ($2::text[] IS NULL OR hash = ANY ($2::text[]))",
        client,
        None if hashes is None else list(hashes),
    )
    return int(status.rsplit(maxsplit=1)[-1])
