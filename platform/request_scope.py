"""An API request's lifecycle, the same whatever it runs: authenticate the caller, choose
the membership it acts through, open the tenant transaction (where the database checks
that membership again), run, commit, then the after-commit hooks.

Every refusal on the way is a `RequestRefused` with its HTTP status and code, raised
before anything of the tenant was read or committed (401 without valid credentials, 403
without a membership, 503 when the database is away or keeps ending the transaction over
conflicts with concurrent ones, which is retried once first). The GraphQL endpoint
(`schema/http.py`) only speaks GraphQL over HTTP around it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TypeVar

from starlette.requests import Request

from kizuna.auth.caller import Authenticator, BadSelection, CrossSite
from kizuna.auth.memberships import Forbidden, MembershipDirectory
from kizuna.auth.tokens import InvalidToken, TokenProblem
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database, DatabaseUnavailable, NoMembership, TransientConflict
from kizuna.platform.errors import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, ErrorCode, RequestRefused
from kizuna.platform.i18n import negotiate
from kizuna.platform.scope import Scope, open_scope

log = logging.getLogger(__name__)

T = TypeVar("T")

CONFLICT_ATTEMPTS = 2
"""How often a request runs when the database keeps ending its transaction over conflicts."""
CONFLICT_MESSAGE = "The request met concurrent changes and was not applied; try again."
CONFLICT_RETRY_AFTER_SECONDS = 1


class RequestScopes:
    """Opens the scope of each API request. `provided` are the deployment's objects that a
    domain may ask a scope for by type (`Scope.get`)."""

    def __init__(
        self,
        database: Database,
        directory: MembershipDirectory,
        authenticator: Authenticator,
        *,
        provided: Mapping[type, object],
    ) -> None:
        self.database = database
        self.directory = directory
        self.authenticator = authenticator
        self.provided = {MembershipDirectory: directory, **provided}

    async def caller(self, request: Request, request_id: str, *, page: bool = False) -> Caller:
        """The caller and the membership it acts through, or the coded refusal: 401
        without valid credentials, 400 for a malformed choice, 403 without a membership to
        act through or for a cross-site cookie request, 503 when the memberships cannot
        be read. Refusals are logged with the request id and the client address, never
        with the credentials. `page`: see `Authenticator.caller`."""
        client = request.client.host if request.client else "-"
        try:
            return await self.authenticator.caller(request, self.directory, page=page)
        except DatabaseUnavailable as exc:  # the memberships could not be read
            raise _unavailable(request_id, exc) from None
        except InvalidToken as exc:
            problem = exc.problem
            log.log(
                logging.INFO if problem is TokenProblem.MISSING else logging.WARNING,
                "request %s from %s: credentials refused (%s)",
                request_id,
                client,
                problem.reason,
            )
            challenge = {"www-authenticate": problem.challenge}
            raise RequestRefused(401, ErrorCode.UNAUTHENTICATED, problem.description, challenge) from None
        except BadSelection as exc:
            raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, str(exc)) from None
        except CrossSite:
            log.warning("request %s from %s: cross-site cookie request refused", request_id, client)
            message = "A cookie-authenticated request must come from Kizuna's own pages."
            raise RequestRefused(403, ErrorCode.FORBIDDEN, message) from None
        except Forbidden as exc:
            log.info("request %s from %s: no membership to act through (%s)", request_id, client, exc)
            raise RequestRefused(403, ErrorCode.FORBIDDEN, str(exc)) from None

    async def run(
        self,
        request: Request,
        caller: Caller,
        request_id: str,
        work: Callable[[Scope], Awaitable[T]],
        *,
        readonly: bool,
    ) -> T:
        """`work(scope)` in the request's scope (`open`), committed.

        When the database ends the transaction over a conflict with concurrent ones (a
        deadlock it broke; on Citus a distributed one, as while shards move), nothing was
        committed and nothing answered yet, so `work` runs once more in a new transaction,
        with a new scope. Conflicts that persist are 503 with `Retry-After`.
        """
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                async with self.open(request, caller, request_id, readonly=readonly) as scope:
                    return await work(scope)
            except TransientConflict as exc:
                log.warning(
                    "request %s: the database ended its transaction over a conflict (%s), attempt %d of %d",
                    request_id,
                    exc,
                    attempt,
                    CONFLICT_ATTEMPTS,
                )
        retry_after = {"retry-after": str(CONFLICT_RETRY_AFTER_SECONDS)}
        raise RequestRefused(503, ErrorCode.UNAVAILABLE, CONFLICT_MESSAGE, retry_after)

    @asynccontextmanager
    async def open(self, request: Request, caller: Caller, request_id: str, *, readonly: bool) -> AsyncIterator[Scope]:
        """The request's scope, in its tenant transaction (`open_scope`).

        A membership revoked since the sign-in cache read it is refused with 403 and
        forgotten, so the next request sees the database's memberships; a database that
        is away is 503 with `Retry-After`. Either way nothing was committed.
        """
        try:
            async with open_scope(
                self.database,
                caller,
                request_id=request_id,
                readonly=readonly,
                language=negotiate(request.headers.get("accept-language")),
                provided=self.provided,
            ) as scope:
                yield scope
        except NoMembership:
            log.info("request %s: the database found no active membership (revoked?)", request_id)
            self.directory.forget(caller.issuer, caller.subject)
            message = "No active membership for this tenant and role."
            raise RequestRefused(403, ErrorCode.FORBIDDEN, message) from None
        except DatabaseUnavailable as exc:
            raise _unavailable(request_id, exc) from None


def _unavailable(request_id: str, exc: DatabaseUnavailable) -> RequestRefused:
    """503 with `Retry-After`, logged in one line per request: an outage is not a defect,
    and a traceback each would bury the log."""
    log.warning("request %s: the database is unavailable (%s)", request_id, exc)
    return RequestRefused(503, ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, {"retry-after": str(RETRY_AFTER_SECONDS)})
