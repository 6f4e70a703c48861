"""The tenant-scoped request transaction: the one place that reads or writes tenant data.

Every request runs DESIGN section 3's transaction, four round trips:

1. ``BEGIN`` (``BEGIN READ ONLY`` for queries);
2. ``SELECT kizuna.begin_request($1, $2, $3, $4)``: role, then Citus propagation, then the
   context as ``SET LOCAL kizuna.*`` with bound values, then the membership check; for a
   welfare worker or a school social worker, ``SELECT kizuna.begin_agency_request()``
   next (one more round trip), which sets the cases shared with them;
3. the request's statements, each given the tenant as ``$1`` for its explicit
   ``municipality_code = $1`` predicate;
4. ``COMMIT``.

Nothing is set at session level, so a pooled connection (or PgBouncer in transaction
mode) never carries one request's tenant into the next, and the pool's reset is skipped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from kizuna.platform.caller import Caller
from kizuna.platform.vocabulary import AppRole

T = TypeVar("T")

BEGIN_REQUEST_SQL = "SELECT kizuna.begin_request($1, $2, $3, $4)"
# For a welfare worker or a school social worker, right after BEGIN_REQUEST_SQL: the cases
# shared with their organisation (and their own emergency accesses) as they stand now, in
# `kizuna.shared_cases`, which the policies on meetings and plans read (0017).
AGENCY_REQUEST_SQL = "SELECT kizuna.begin_agency_request()"
AGENCY_ROLES = frozenset({AppRole.WELFARE_WORKER, AppRole.SCHOOL_SOCIAL_WORKER})
SIGN_IN_SQL = "SELECT kizuna.begin_sign_in($1, $2)"
# The directory reads, as `kizuna_directory` after SIGN_IN_SQL (the user's own rows only).
SESSION_EPOCH_SQL = "SELECT session_epoch FROM kizuna.app_user WHERE id = $1"
MEMBERSHIPS_SQL = (
    "SELECT municipality_code, role::text, organisation_id, display_name FROM kizuna.membership"
    " WHERE user_id = $1 AND revoked_at IS NULL ORDER BY municipality_code, role"
)

# The trusted documents (0032), a global table that `kizuna_app` itself reads, outside any
# request transaction: no tenant, no personal data. One text per hash, whichever clients
# registered it.
TRUSTED_DOCUMENTS_SQL = "SELECT DISTINCT ON (hash) hash, document FROM kizuna.trusted_document"
TRUSTED_DOCUMENT_SQL = "SELECT document FROM kizuna.trusted_document WHERE hash = $1 LIMIT 1"


@dataclass(frozen=True, slots=True)
class Directory:
    user_id: uuid.UUID | None
    session_epoch: int
    memberships: list[tuple[str, str, uuid.UUID, str]]
    """(municipality, role, organisation, display name) of each active membership."""


class NoMembership(Exception):
    """The database found no active membership for the context: nothing was read."""


class TransientConflict(Exception):
    """The database ended the transaction to resolve a conflict with concurrent ones: a
    deadlock it broke (40P01; on Citus also a distributed deadlock, as while shards move)
    or a serialization failure (40001). Nothing of the request was committed, and running
    it again, in a new transaction, is expected to succeed."""


# The errors PostgreSQL documents as "retry the transaction" (the SQLSTATE class 40 ones
# that a retry can cure): a statement that fails with one has aborted its transaction.
TRANSIENT_CONFLICTS = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


class DatabaseUnavailable(Exception):
    """The database could not be reached, or went away during the request (stopped,
    restarting, out of connections): nothing of the request was committed, and the same
    request may succeed later. The message says why, for the log; it holds no data."""


# How a database that is not there fails: no connection (refused, reset, its socket gone,
# timed out: OSError), a connection refused or lost (SQLSTATE class 08), the server
# shutting down, crashed or starting up (57P01-57P03), or out of connections (53300).
_UNREACHABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


class TenantTransaction:
    """Statements inside one request transaction.

    `fetch`, `fetchrow`, `fetchval`, `execute` and `executemany` pass the tenant as the
    first bound parameter, so every tenant statement is written with
    ``municipality_code = $1`` (a lint test checks the SQL). Statements over global tables
    use the `*_global` variants.
    """

    __slots__ = ("_conn", "_lock", "_loop", "_owner", "_running", "municipality_code")

    def __init__(self, conn: asyncpg.Connection, municipality_code: str) -> None:
        self._conn = conn
        # GraphQL resolves sibling fields concurrently; one connection takes one statement
        # at a time.
        self._lock = asyncio.Lock()
        # The task that opened the transaction, and ends it (see `_one_at_a_time`).
        self._loop = asyncio.get_running_loop()
        self._owner = asyncio.current_task(self._loop)
        # The statement on the connection, held here: the event loop keeps only a weak
        # reference to a task, and an abandoned one has no awaiter left to hold it.
        self._running: asyncio.Future[Any] | None = None
        self.municipality_code = municipality_code

    async def _one_at_a_time(self, call: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run one statement on the connection, to its end even if its awaiter is cancelled.

        graphql-core cancels the sibling fields of a field whose error nulls their parent
        (`gather_with_cancel`). Cancelled in asyncpg, a statement is cancelled on the server
        too, and that aborts the whole transaction: the request's audit write and COMMIT
        would then fail. So the statement runs shielded, and the connection stays taken
        until it ends, not until its awaiter leaves (`settled` waits for that).

        The task that opened the transaction runs its statements itself, unshielded (a
        task and a shield less a statement): if it is cancelled, the request is over, and
        its transaction ends with ROLLBACK whatever the statement did.
        """
        if asyncio.current_task(self._loop) is self._owner:
            async with self._lock:
                return await call(*args)
        await self._lock.acquire()
        try:
            running = asyncio.ensure_future(call(*args))
        except BaseException:
            self._lock.release()
            raise
        self._running = running
        running.add_done_callback(self._statement_ended)
        return await asyncio.shield(running)

    def _statement_ended(self, running: asyncio.Future[Any]) -> None:
        self._running = None
        self._lock.release()
        if not running.cancelled():
            # Retrieved here as well: an abandoned statement's error is not "never retrieved"
            # (its transaction is aborted, so the request fails at its next statement).
            running.exception()

    async def settled(self) -> None:
        """Wait until no statement is running (before COMMIT or ROLLBACK)."""
        async with self._lock:
            pass

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._one_at_a_time(self._conn.fetch, sql, self.municipality_code, *args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._one_at_a_time(self._conn.fetchrow, sql, self.municipality_code, *args)
        return row

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._one_at_a_time(self._conn.fetchval, sql, self.municipality_code, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        status: str = await self._one_at_a_time(self._conn.execute, sql, self.municipality_code, *args)
        return status

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        tenant = self.municipality_code
        await self._one_at_a_time(self._conn.executemany, sql, [(tenant, *row) for row in rows])

    async def fetch_global(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._one_at_a_time(self._conn.fetch, sql, *args)
        return rows


async def _skip_reset(conn: asyncpg.Connection) -> None:
    """asyncpg's pool reset (RESET ALL …) costs a round trip per request and is not needed:
    the role and the tenant are transaction-local and end with the COMMIT."""


class Database:
    """The application's pool, logged in as the unprivileged `kizuna_app` role."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        # Requests take the pool's connections in the order they asked. The pool's own
        # queue lets a newcomer take a connection that a waiter was woken for, and the
        # waiter then queues again at the back: at 32 clients on 4 connections that was
        # the benchmark's p99 at several times its p50. asyncio's semaphore is first come,
        # first served, and with one turn per connection the pool never makes anyone wait.
        self._turns = asyncio.Semaphore(pool.get_max_size())

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        size: int,
        statement_cache_size: int = 100,
        on_statement: Callable[[str], None] | None = None,
    ) -> Database:
        """`on_statement` sees the text of every statement sent (the query-count tests)."""

        async def init(conn: asyncpg.Connection) -> None:
            if on_statement is not None:
                conn.add_query_logger(lambda record: on_statement(record.query))

        pool = await asyncpg.create_pool(
            dsn,
            # No floor: asyncpg restores one in the background, logging a traceback at each
            # failed try while the database is away. Connections open as requests need them,
            # and one the server closed (stopped, restarted) is replaced then.
            min_size=0,
            max_size=size,
            # 0 behind PgBouncer in transaction mode older than 1.21
            statement_cache_size=statement_cache_size,
            reset=_skip_reset,
            init=init,
        )
        await pool.execute("SELECT 1")  # the first connection: a wrong URL or password fails at startup
        return cls(pool)

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; raises `DatabaseUnavailable` when the database is not there.

        The pool drops a connection that was closed (the server stopped or restarted) and
        opens a new one when it is next needed, so the database coming back needs nothing here.
        """
        try:
            async with self._turns, self._pool.acquire() as conn:
                try:
                    yield conn
                except asyncpg.InterfaceError as exc:
                    # asyncpg reports a statement, COMMIT or ROLLBACK on a connection that
                    # was lost meanwhile as misuse of a closed connection.
                    if not conn.is_closed():
                        raise
                    raise DatabaseUnavailable(f"the connection was lost ({exc})") from exc
        except _UNREACHABLE as exc:
            raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc

    @asynccontextmanager
    async def transaction(self, caller: Caller, *, readonly: bool) -> AsyncIterator[TenantTransaction]:
        """Run a request's statements in one tenant-scoped transaction (as
        `platform/request_scope.py` opens it for every request).

        Raises `NoMembership` (before any statement of the caller runs) when the user has
        no active membership for the caller's tenant, role and organisation,
        `DatabaseUnavailable` when the database is not there and `TransientConflict` when
        it ended the transaction over a conflict (either way nothing was committed).
        """
        try:
            async with self._connection() as conn, conn.transaction(readonly=readonly):
                try:
                    await conn.execute(
                        BEGIN_REQUEST_SQL,
                        caller.role.value,
                        caller.municipality_code,
                        str(caller.user_id),
                        str(caller.organisation_id),
                    )
                except asyncpg.InvalidAuthorizationSpecificationError as exc:
                    raise NoMembership(str(exc)) from None
                if caller.role in AGENCY_ROLES:
                    await conn.execute(AGENCY_REQUEST_SQL)
                tx = TenantTransaction(conn, caller.municipality_code)
                try:
                    yield tx
                finally:
                    await tx.settled()
        except TRANSIENT_CONFLICTS as exc:  # from a statement, the read audit or COMMIT
            raise TransientConflict(f"{exc.sqlstate}: {exc}") from exc

    async def directory(self, issuer: str, subject: str) -> Directory:
        """The user (issuer, subject) names, how many times they signed out, and their active
        memberships in every tenant.

        The one read that is not scoped to a tenant: it runs before a tenant is chosen, as
        `kizuna_directory`, whose policy shows only the user's own memberships.

        Two statements, not a join of `app_user` and `membership`: on Citus that join under
        row security fails in the planner (docs/scale-out.md).
        """
        async with self._connection() as conn, conn.transaction(readonly=True):
            user_id: uuid.UUID | None = await conn.fetchval(SIGN_IN_SQL, issuer, subject)
            if user_id is None:
                return Directory(None, 0, [])
            session_epoch: int = await conn.fetchval(SESSION_EPOCH_SQL, user_id)
            rows = await conn.fetch(MEMBERSHIPS_SQL, user_id)
        return Directory(user_id, session_epoch, [(r[0], r[1], r[2], r[3]) for r in rows])

    async def sign_out(self, issuer: str, subject: str) -> None:
        """Record that the user signed out: every browser session begun before ends."""
        async with self._connection() as conn, conn.transaction():
            if await conn.fetchval(SIGN_IN_SQL, issuer, subject) is not None:
                await conn.execute("SELECT kizuna.sign_out()")

    async def trusted_documents(self) -> dict[str, str]:
        """Every registered document's text by its hash (a server's start)."""
        async with self._connection() as conn:
            rows = await conn.fetch(TRUSTED_DOCUMENTS_SQL)
        return {r["hash"]: r["document"] for r in rows}

    async def trusted_document(self, hash_hex: str) -> str | None:
        """The text registered under `hash_hex`, if any (a hash registered since the start)."""
        async with self._connection() as conn:
            text: str | None = await conn.fetchval(TRUSTED_DOCUMENT_SQL, hash_hex)
            return text

    async def schema_revision(self) -> str | None:
        """The migration the database is at; no tenant data is involved."""
        async with self._connection() as conn:
            value: str | None = await conn.fetchval("SELECT version_num FROM public.alembic_version")
            return value
