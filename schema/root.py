"""The schema: `Query` and `Mutation` composed from the per-domain classes."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from kizuna.schema.approvals.mutations import CaseWorkflowMutations
from kizuna.schema.approvals.queries import ApprovalQueries
from kizuna.schema.audit.queries import AuditQueries
from kizuna.schema.cases.mutations import CaseMutations
from kizuna.schema.cases.queries import CaseQueries
from kizuna.schema.dispatches.mutations import DispatchMutations
from kizuna.schema.dispatches.queries import DispatchQueries
from kizuna.schema.indicators.mutations import IndicatorMutations
from kizuna.schema.indicators.queries import IndicatorQueries
from kizuna.schema.memberships.mutations import MembershipMutations
from kizuna.schema.memberships.queries import MembershipQueries
from kizuna.schema.node import NodeQueries
from kizuna.schema.people.mutations import PersonMutations
from kizuna.schema.people.queries import PersonQueries
from kizuna.schema.person_merges.mutations import PersonMergeMutations
from kizuna.schema.plans.mutations import PlanMutations
from kizuna.schema.plans.queries import PlanQueries
from kizuna.schema.records.mutations import RecordMutations
from kizuna.schema.referrals.mutations import ReferralMutations
from kizuna.schema.referrals.queries import ReferralQueries
from kizuna.schema.relay import node_types
from kizuna.schema.sharing.mutations import SharingMutations
from kizuna.schema.sharing.queries import SharingQueries
from kizuna.schema.stats.queries import StatsQueries
from kizuna.schema.submissions.mutations import SubmissionMutations
from kizuna.schema.submissions.queries import SubmissionQueries
from kizuna.schema.tenants.queries import TenantQueries


# Every root query field is nullable, so a refused or missing one is null with its own
# error and its siblings still answer (a school asking for cases and referrals gets its
# referrals). Root mutation fields stay non-null: a mutation with an error rolls the whole
# request back, and a null `data` is what tells the client that nothing was written.
@strawberry.type
class Query(
    TenantQueries,
    CaseQueries,
    PersonQueries,
    ReferralQueries,
    ApprovalQueries,
    PlanQueries,
    DispatchQueries,
    MembershipQueries,
    AuditQueries,
    SharingQueries,
    SubmissionQueries,
    IndicatorQueries,
    StatsQueries,
    NodeQueries,
):
    pass


@strawberry.type
class Mutation(
    MembershipMutations,
    ReferralMutations,
    CaseMutations,
    CaseWorkflowMutations,
    PlanMutations,
    PersonMutations,
    DispatchMutations,
    PersonMergeMutations,
    RecordMutations,
    SharingMutations,
    SubmissionMutations,
    IndicatorMutations,
):
    pass


def build_schema() -> strawberry.Schema:
    """The schema. Limits, caches and introspection are the executor's (schema/execution.py)."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        # Every Node type its domain registered (importing the domains above did).
        types=[t.graphql_type for t in node_types()],
        config=StrawberryConfig(auto_camel_case=True),
    )
