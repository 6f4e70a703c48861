"""The schema: `Query` composed from the per-domain query classes."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from kizuna.schema.cases.queries import CaseQueries
from kizuna.schema.cases.types import Case, Person
from kizuna.schema.node import NodeQueries
from kizuna.schema.referrals.queries import ReferralQueries
from kizuna.schema.referrals.types import Referral
from kizuna.schema.tenants.queries import TenantQueries
from kizuna.schema.tenants.types import Organization


@strawberry.type
class Query(TenantQueries, CaseQueries, ReferralQueries, NodeQueries):
    pass


def build_schema() -> strawberry.Schema:
    """The schema. Limits, caches and introspection are the executor's (schema/execution.py)."""
    return strawberry.Schema(
        query=Query,
        types=[Case, Person, Referral, Organization],
        config=StrawberryConfig(auto_camel_case=True),
    )
