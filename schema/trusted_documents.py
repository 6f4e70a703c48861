"""Trusted documents (issue 18, item 5): the documents `/graphql` runs by their hash, and in
`KIZUNA_TRUSTED_DOCUMENTS=only` the only documents it runs.

A registered document was parsed and validated against the schema when it was registered
(`kizuna documents register`, with the production rules: no introspection), and is
prepared again once per server process, at its start or when a request first names a hash
registered since: kept here for the process's life, outside the executor's cache of 256
texts, so that a client's documents are never evicted by other traffic. The compiled
completion plans of a document (schema/compiled.py) are generated on its first execution,
when graphql-core first completes its values, and then kept in the plan cache.

The server's own pages (schema/pages/documents/) are trusted by construction: they ship
with the code, so each process adds them to its registered documents at start rather than
to the store, where another release's pages would then be trusted too. A page sends its
document's text; in `only` mode that text is found by its hash like any registered one, so
no request is let through for being a page's.

A hash grants nothing: the request is authenticated, cost-limited, rate-limited and run in
its tenant's transaction exactly as one carrying the text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kizuna.platform.database import Database, DatabaseUnavailable
from kizuna.platform.errors import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, ErrorCode, RequestRefused
from kizuna.platform.settings import TrustedDocuments as Mode
from kizuna.platform.trusted_documents import HASH_PREFIX, document_hash
from kizuna.schema.execution import Executor, PreparedDocument

log = logging.getLogger(__name__)


def registration_problems(executor: Executor, text: str) -> list[str]:
    """Why `text` may not be registered: its parse or validation errors against the schema,
    with `executor`'s rules (made without introspection, as production runs)."""
    prepared = executor.parse_and_validate(text)
    if prepared.document is None or prepared.errors:
        return [error.message for error in prepared.errors]
    return []


class TrustedDocuments:
    """The registered documents of one server process, prepared, by hash."""

    def __init__(self, executor: Executor, mode: Mode, own: Iterable[str]) -> None:
        self._executor = executor
        self.mode = mode
        self._own = {document_hash(text): text for text in own}
        self._prepared: dict[str, PreparedDocument] = {}
        self._database: Database | None = None

    async def load(self, database: Database) -> None:
        """Prepare the pages' documents and every registered one (a server's start)."""
        self._database = database
        for hash_hex, text in (await database.trusted_documents() | self._own).items():
            self._keep(hash_hex, text)

    def _keep(self, hash_hex: str, text: str) -> PreparedDocument:
        prepared = self._executor.parse_and_validate(text)
        if prepared.errors:
            # Valid when registered, not against this schema: answered with its errors as
            # any invalid document is (nothing runs), and said here for the operator.
            log.warning("trusted document %s%s does not validate: %s", HASH_PREFIX, hash_hex, prepared.errors[0])
        self._prepared[hash_hex] = prepared
        return prepared

    async def by_hash(self, hash_hex: str) -> PreparedDocument | None:
        """The document registered under `hash_hex`, or None; one read of the store for a
        hash this process has not seen (registered since its start, or not at all)."""
        prepared = self._prepared.get(hash_hex)
        if prepared is not None:
            return prepared
        if self._database is None:
            return None
        try:
            text = await self._database.trusted_document(hash_hex)
        except DatabaseUnavailable as exc:
            log.warning("trusted document %s%s: the database is unavailable (%s)", HASH_PREFIX, hash_hex, exc)
            headers = {"retry-after": str(RETRY_AFTER_SECONDS)}
            raise RequestRefused(503, ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, headers) from None
        return None if text is None else self._keep(hash_hex, text)

    async def prepare(self, text: str | None, hash_hex: str | None) -> PreparedDocument:
        """The document a request names: by its text, its hash, or both (they must agree).
        A refusal (RequestRefused, HTTP 400) runs nothing: an unknown hash, a hash that is
        not its text's, and in `only` mode a text that is not registered."""
        if text is not None and hash_hex is not None and document_hash(text) != hash_hex:
            message = "The document's SHA-256 is not the hash the request gives with it."
            raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, message)
        if text is None:  # the request names its document by hash only (schema/http.py: one of the two)
            prepared = None if hash_hex is None else await self.by_hash(hash_hex)
            if prepared is None:
                then = "send its text instead" if self.mode is Mode.ALLOW else "register it (kizuna documents register)"
                message = f"No document is registered under {HASH_PREFIX}{hash_hex}: {then}."
                raise RequestRefused(400, ErrorCode.PERSISTED_QUERY_NOT_FOUND, message)
            return prepared
        if self.mode is Mode.ALLOW:
            return self._executor.prepare(text)
        prepared = await self.by_hash(document_hash(text))
        if prepared is None:
            message = "This server runs registered documents only, and this document is not registered."
            raise RequestRefused(400, ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, message)
        return prepared
