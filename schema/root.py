"""The schema: `Query` and `Mutation` composed from the per-domain classes."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from kizuna.schema.audit.queries import AuditQueries
from kizuna.schema.cases.queries import CaseQueries
from kizuna.schema.cases.types import Case, Person
from kizuna.schema.memberships.mutations import MembershipMutations
from kizuna.schema.memberships.queries import MembershipQueries
from kizuna.schema.memberships.types import Membership
from kizuna.schema.node import NodeQueries
from kizuna.schema.referrals.queries import ReferralQueries
from kizuna.schema.referrals.types import Referral
from kizuna.schema.tenants.queries import TenantQueries
from kizuna.schema.tenants.types import Organization


# Every root query field is nullable, so a refused or missing one is null with its own
# error and its siblings still answer (a school asking for cases and referrals gets its
# referrals). Root mutation fields stay non-null: a mutation with an error rolls the whole
# request back, and a null `data` is what tells the client that nothing was written.
@strawberry.type
class Query(TenantQueries, CaseQueries, ReferralQueries, MembershipQueries, AuditQueries, NodeQueries):
    pass


@strawberry.type
class Mutation(MembershipMutations):
    pass


def build_schema() -> strawberry.Schema:
    """The schema. Limits, caches and introspection are the executor's (schema/execution.py)."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Case, Person, Referral, Organization, Membership],
        config=StrawberryConfig(auto_camel_case=True),
    )
