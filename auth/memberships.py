"""From an identity to the membership a request acts through.

The database holds the memberships of each user (issuer + subject). A request names the
municipality it acts in (the `Kizuna-Municipality` header, or the switch in the browser
session); with one municipality to choose from it may name none. The choice is always
checked against the memberships, against what the issuer may vouch for and against what
its claims assert, and `kizuna.begin_request` checks the chosen membership once more in
the request's own transaction, so a revoked membership stops working on the next request
even while this module's short cache still lists it.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from kizuna.auth.identity import Identity
from kizuna.auth.tokens import TrustedIssuer
from kizuna.platform.caller import Caller, Membership
from kizuna.platform.database import Database
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants.registry import by_code

CACHE_SECONDS = 30.0
MUNICIPALITY_SCOPE = "municipality:{code}"
"""A municipal system's token must carry this scope for the municipality it acts in."""


class Forbidden(Exception):
    """The identity holds no membership this request may act through; the message says
    what to do and never names another tenant's data."""


@dataclass(frozen=True, slots=True)
class Account:
    user_id: uuid.UUID | None
    memberships: tuple[Membership, ...]
    session_epoch: int = 0
    """How many times the user signed out: a browser session begun under another count is over."""

    def ended(self, identity: Identity) -> bool:
        """Whether `identity` is a browser session the user has since signed out of."""
        return identity.session_epoch is not None and identity.session_epoch != self.session_epoch


class MembershipDirectory:
    """The memberships of (issuer, subject), read through `kizuna.begin_sign_in` and kept
    for a few seconds: most requests then cost no extra round trip."""

    def __init__(self, database: Database, *, ttl_seconds: float = CACHE_SECONDS, size: int = 10_000) -> None:
        self._database = database
        self._ttl = ttl_seconds
        self._size = size
        self._cache: OrderedDict[tuple[str, str], tuple[Account, float]] = OrderedDict()
        # Advanced by every forget(): a read that began before one must not cache what
        # it found, which may be older than the change that forget() announced.
        self._generation = 0

    async def account(self, issuer: str, subject: str) -> Account:
        key = (issuer, subject)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() < cached[1]:
            return cached[0]
        generation = self._generation
        found = await self._database.directory(issuer, subject)
        account = Account(
            found.user_id,
            tuple(Membership(code, AppRole(role), org, name) for code, role, org, name in found.memberships),
            found.session_epoch,
        )
        if generation == self._generation:
            self._cache[key] = (account, time.monotonic() + self._ttl)
            self._cache.move_to_end(key)
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return account

    def forget(self, issuer: str, subject: str) -> None:
        """Drop a user's cached memberships (after a change, or a refusal by the database)."""
        self._generation += 1
        self._cache.pop((issuer, subject), None)


def usable_memberships(identity: Identity, issuer: TrustedIssuer, account: Account) -> tuple[Membership, ...]:
    """The memberships this sign-in may act through: the issuer vouches for the role, and
    the claims (where the issuer's mapping reads any) agree with it."""
    assertion = identity.assertion
    return tuple(
        m
        for m in account.memberships
        if m.role in issuer.roles
        and _asserted(m.role, assertion.roles)
        and (assertion.organisation_id is None or m.organisation_id == assertion.organisation_id)
        and (assertion.municipality_code is None or serves(m, assertion.municipality_code))
    )


def choose(
    identity: Identity,
    issuer: TrustedIssuer,
    account: Account,
    *,
    municipality: str | None,
    role: AppRole | None = None,
) -> Caller:
    """The membership this request acts through; Forbidden when there is none, or more
    than one and the request did not say which."""
    usable = usable_memberships(identity, issuer, account)
    if account.user_id is None or not usable:
        raise Forbidden("No active membership for this sign-in.")
    asserted = identity.assertion.municipality_code
    if municipality is not None and asserted is not None and municipality != asserted:
        raise Forbidden("This token is for another municipality.")
    wanted = municipality or asserted
    if wanted is None:
        codes = {m.municipality_code for m in usable}
        if len(codes) > 1:
            raise Forbidden("Several municipalities: name one in the Kizuna-Municipality header.")
        wanted = codes.pop()
    if by_code(wanted) is None:  # serves() alone would let an administrator name any code
        raise Forbidden("No such municipality.")
    here = [m for m in usable if serves(m, wanted)]
    if not here:
        raise Forbidden("No active membership for this municipality.")
    candidates = [m for m in here if role is None or m.role is role]
    if not candidates:  # the municipality is right; the role named in Kizuna-Role is not held
        raise Forbidden(f"No active membership as {role} here: Kizuna-Role names a role you do not hold.")
    if len(candidates) > 1:
        raise Forbidden("Several roles here: name one in the Kizuna-Role header.")
    chosen = candidates[0]
    if chosen.role is AppRole.MUNICIPAL_SYSTEM:
        scope = MUNICIPALITY_SCOPE.format(code=wanted)
        if scope not in identity.scopes:
            raise Forbidden(f"A municipal system's token needs the scope {scope}.")
    return Caller(
        user_id=account.user_id,
        issuer=identity.issuer,
        subject=identity.subject,
        role=chosen.role,
        municipality_code=wanted,
        organisation_id=chosen.organisation_id,
        memberships=usable,
        display_name=chosen.display_name,
    )


def _asserted(role: AppRole, roles: frozenset[AppRole] | None) -> bool:
    """Whether the claims allow `role`. A configured role claim that names no Kizuna role
    (absent, or only other applications' roles) allows nothing but a municipal system's
    membership: client-credentials tokens carry no role claim, and that role is held to
    its `municipality:<code>` scope instead."""
    if roles is None:
        return True
    return role in roles or (not roles and role is AppRole.MUNICIPAL_SYSTEM)


def serves(membership: Membership, municipality: str) -> bool:
    """A platform administrator's membership (held in the prefecture's tenant) serves
    every tenant of that prefecture; any other serves its own tenant only."""
    if membership.role is AppRole.PLATFORM_ADMIN:
        return membership.municipality_code[:2] == municipality[:2]
    return membership.municipality_code == municipality
