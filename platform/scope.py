"""One request's scope: who is asking, the tenant transaction it runs in, and what runs
after that transaction commits.

Every resolver and service reads the caller, the tenant and the role from here, and
nowhere else: `open_scope` builds it once the caller is known and the database has
checked the membership, and the GraphQL schema receives it as its
context. What one domain needs from the deployment (the trusted issuers, the sign-in
cache …) is not a field of the scope: the application provides such objects by type, and
the domain asks for them with `scope.get(T)`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TypeVar, cast

from kizuna.platform.caller import Caller
from kizuna.platform.database import Database, TenantTransaction
from kizuna.platform.i18n import DEFAULT, Language
from kizuna.platform.vocabulary import AppRole

T = TypeVar("T")


class Scope:
    """A request inside its tenant transaction."""

    __slots__ = (
        "_after_commit",
        "_before_commit",
        "_per_request",
        "_provided",
        "caller",
        "language",
        "reads",
        "request_id",
        "rolled_back",
        "tx",
    )

    def __init__(
        self,
        caller: Caller,
        tx: TenantTransaction,
        *,
        request_id: str,
        language: Language = DEFAULT,
        provided: Mapping[type, object] | None = None,
    ) -> None:
        self.caller = caller
        self.tx = tx
        self.request_id = request_id
        self.language = language
        """The language the caller reads (`Accept-Language`), for user errors."""
        self._provided: Mapping[type, object] = provided or {}
        self._per_request: dict[Callable[[Scope], object], object] = {}
        self._after_commit: list[Callable[[], None]] = []
        self._before_commit: list[Callable[[], Awaitable[None]]] = []
        self.rolled_back = False
        self.reads: dict[str, set[uuid.UUID]] = {}
        """The objects of each entity this request read, for the audit log (`audit.record_reads`)."""

    @property
    def municipality_code(self) -> str:
        return self.caller.municipality_code

    @property
    def role(self) -> AppRole:
        return self.caller.role

    def get(self, kind: type[T]) -> T:
        """The deployment's object of type `kind` (provided by the application)."""
        try:
            return cast("T", self._provided[kind])
        except KeyError:
            raise LookupError(f"the application provides no {kind.__name__}") from None

    def per_request(self, make: Callable[[Scope], T]) -> T:
        """This request's one `make(scope)`, made on first use and kept until the request
        ends: a loader that gathers what the answer's objects ask for (the history of each
        case of a page) into one statement."""
        if make not in self._per_request:
            self._per_request[make] = make(self)
        return cast("T", self._per_request[make])

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once the transaction has committed; never if it rolls back. For what
        must not be seen before the change is (a cache of what the change replaced)."""
        self._after_commit.append(hook)

    def before_commit(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` in the transaction once the request's work is done, just before
        COMMIT (not when it rolls back): for what the whole request adds up to, such as
        the audit events of everything it read, written in one statement."""
        self._before_commit.append(hook)

    async def finish(self) -> None:
        """Called by `open_scope` once, after the work and before COMMIT: run the
        before-commit hooks, in order."""
        hooks, self._before_commit = self._before_commit, []
        for hook in hooks:
            await hook()

    def roll_back(self) -> None:
        """End the transaction with ROLLBACK instead of COMMIT: nothing the request wrote
        stays, and no after-commit hook runs (a mutation that answered with errors)."""
        self.rolled_back = True

    def committed(self) -> None:
        """Called by the request scope once, after COMMIT: run the hooks, in order."""
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()


class _RollBack(Exception):
    """Raised inside the transaction to end it with ROLLBACK (see `Scope.roll_back`)."""


@asynccontextmanager
async def open_scope(
    database: Database,
    caller: Caller,
    *,
    request_id: str,
    readonly: bool,
    language: Language = DEFAULT,
    provided: Mapping[type, object] | None = None,
) -> AsyncIterator[Scope]:
    """The request's scope in its tenant transaction (DESIGN section 3), committed when the
    body returns, unless it called `scope.roll_back()`, and rolled back if the body raises.
    The before-commit hooks (the read audit) run in the transaction just before COMMIT, the
    after-commit hooks only once COMMIT has succeeded.

    Raises `NoMembership` before the body runs when the database finds no active
    membership for the caller, and `DatabaseUnavailable` when the database is not there.
    """
    try:
        async with database.transaction(caller, readonly=readonly) as tx:
            scope = Scope(caller, tx, request_id=request_id, language=language, provided=provided)
            yield scope
            if scope.rolled_back:
                raise _RollBack
            await scope.finish()
    except _RollBack:
        return
    scope.committed()
