"""Every statement of the request path goes to one shard (DESIGN section 8: the tenant is
the shard key, and every tenant statement names it).

The request path is run for real, through the GraphQL executor and `Database`, as a
caseworker, a school, a supervisor and a platform administrator, reads and writes (the
writes rolled back). Two checks: `EXPLAIN` of each statement sent shows a single-task
router plan, and Citus's own counters (`citus_stat_counters`) see no multi-shard execution
during a request, which covers the statements inside `kizuna.begin_request` as well.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from kizuna.auth.memberships import MembershipDirectory
from kizuna.platform.caller import Caller
from kizuna.platform.database import BEGIN_REQUEST_SQL, Database
from kizuna.platform.scope import open_scope
from kizuna.platform.settings import DEFAULT_DEV_ISSUER, Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.execution import Executor
from kizuna.schema.memberships.service import TrustedIssuers
from kizuna.schema.relay import encode_global_id
from kizuna.schema.root import build_schema
from kizuna.tenants import demo_users

from .cluster import Cluster
from .conftest import SAITAMA_CITY, SAITAMA_PREFECTURE, SEEDED

USERS = demo_users.demo_users("11", list(SEEDED))
CASES = """{ cases(first: 5) { totalCount edges { node { id stage person { id familyName }
  leadOrganization { id name } } } } viewer { role municipality { code } } }"""
REFERRALS = "{ referrals(first: 50) { totalCount edges { node { id status } } } }"
SEND = """mutation($input: CreateReferralInput!) { createReferral(input: $input) {
  referral { id status } userErrors { field message code } } }"""
ACCEPT = """mutation($input: AcceptReferralInput!) { acceptReferral(input: $input) {
  referral { id status } case { id stage } userErrors { field message code } } }"""
IN_STAGE = "query($stage: CaseStage!) { cases(first: 1, stage: $stage) { edges { node { id } } } }"
MOVE = """mutation($input: MoveCaseStageInput!) { moveCaseStage(input: $input) {
  case { id stage } userErrors { field message code } } }"""
REQUEST = """mutation($input: RequestApprovalInput!) { requestApproval(input: $input) {
  approval { id } userErrors { field message code } } }"""
WAITING = """{ approvals(status: REQUESTED, first: 1) { edges { node { id } } }
  notifications(first: 5) { edges { node { id } } } }"""
DECIDE = """mutation($input: DecideApprovalInput!) { decideApproval(input: $input) {
  approval { id status } userErrors { field message code } } }"""
DECLINE = """mutation($input: DeclineReferralInput!) { declineReferral(input: $input) {
  referral { id status } userErrors { field message code } } }"""
MEMBERSHIPS = """query($after: String) { memberships(first: 2, after: $after, includeRevoked: true) {
  totalCount edges { node { id role organization { id } } } pageInfo { endCursor } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
GRANT = """mutation($input: GrantMembershipInput!) { grantMembership(input: $input) {
  membership { id } userErrors { field message code } } }"""
REVOKE = """mutation($id: ID!) { revokeMembership(input: {id: $id}) {
  membership { id active } userErrors { field message code } } }"""
# Not the request path: a statement without its tenant, to show what a fan-out looks like.
FAN_OUT = "SELECT count(*) FROM kizuna.membership"


@dataclass
class Sent:
    query: str
    args: tuple[Any, ...]
    role: AppRole
    municipality: str


class RequestPath:
    """Runs GraphQL documents as a demo user on the cluster and keeps every statement sent."""

    def __init__(self, database: Database, sent: list[tuple[str, tuple[Any, ...]]], settings: Settings) -> None:
        self._database = database
        self._settings = settings
        self._sent = sent
        self.statements: list[Sent] = []
        self._executor = Executor(build_schema(), introspection=False)

    async def run(
        self, role: AppRole, municipality: str, document: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        me = next(u for u in USERS if u.role is role and u.municipality_code in (municipality, SAITAMA_PREFECTURE))
        caller = Caller(me.user_id, DEFAULT_DEV_ISSUER, me.subject, role, municipality, me.organisation_id)
        prepared = self._executor.prepare(document)
        assert prepared.document is not None
        writes = document.lstrip().startswith("mutation")
        self._sent.clear()
        provided = {
            Settings: self._settings,
            TrustedIssuers: TrustedIssuers(lambda: frozenset({DEFAULT_DEV_ISSUER})),
            MembershipDirectory: MembershipDirectory(self._database),
        }
        async with open_scope(
            self._database, caller, request_id=uuid.uuid4().hex, readonly=False, provided=provided
        ) as scope:
            result = await self._executor.execute(
                prepared.document, variables=variables, context=scope, operation_name=None
            )
            assert result.errors is None, result.errors
            assert result.data is not None
            if writes:
                scope.roll_back()
        data = result.data
        self.statements += [Sent(q, a, role, municipality) for q, a in self._sent]
        return data


@pytest.fixture
async def request_path(citus_cluster: Cluster, settings: Settings) -> AsyncIterator[RequestPath]:
    sent: list[tuple[str, tuple[Any, ...]]] = []

    async def record(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda logged: sent.append((logged.query, tuple(logged.args or ()))))

    pool = await asyncpg.create_pool(citus_cluster.urls.app, min_size=0, max_size=1, init=record)
    try:
        yield RequestPath(Database(pool), sent, settings)
    finally:
        await pool.close()


async def _multi_shard_executions(admin: asyncpg.Connection) -> int:
    count: int = await admin.fetchval(
        "SELECT query_execution_multi_shard FROM citus_stat_counters WHERE name = current_database()"
    )
    return count


async def _walk_the_request_path(path: RequestPath) -> None:
    """Reads and writes of the four kinds of caller, each request on its own."""
    cases = await path.run(AppRole.CASEWORKER, SAITAMA_CITY, CASES)
    first_case = cases["cases"]["edges"][0]["node"]
    await path.run(AppRole.CASEWORKER, SAITAMA_CITY, NODE, {"id": first_case["id"]})
    await path.run(AppRole.CASEWORKER, SAITAMA_CITY, NODE, {"id": first_case["person"]["id"]})
    referrals = await path.run(AppRole.SCHOOL_STAFF, SAITAMA_CITY, REFERRALS)
    await path.run(AppRole.SCHOOL_STAFF, SAITAMA_CITY, NODE, {"id": referrals["referrals"]["edges"][0]["node"]["id"]})
    concern = {"source": "SCHOOL", "childDisplayName": "経路 試験", "noticed": "経路の試験", "urgency": "ROUTINE"}
    sent = await path.run(AppRole.SCHOOL_STAFF, SAITAMA_CITY, SEND, {"input": concern | {"idempotencyKey": "routing"}})
    assert sent["createReferral"]["userErrors"] == [], sent
    submitted = next(e["node"]["id"] for e in referrals["referrals"]["edges"] if e["node"]["status"] == "SUBMITTED")
    into_new_case = {"id": submitted, "personId": first_case["person"]["id"], "category": "YOUNG_CARER"}
    accepted = await path.run(AppRole.CASEWORKER, SAITAMA_CITY, ACCEPT, {"input": into_new_case})
    assert accepted["acceptReferral"]["userErrors"] == [], accepted
    declined = await path.run(AppRole.CASEWORKER, SAITAMA_CITY, DECLINE, {"input": {"id": submitted, "reason": "試験"}})
    assert declined["declineReferral"]["userErrors"] == [], declined
    await _walk_the_case_workflow(path)


async def _walk_the_case_workflow(path: RequestPath) -> None:
    """A move, an approval asked for and one decided (each rolled back)."""
    intake = await path.run(AppRole.CASEWORKER, SAITAMA_CITY, IN_STAGE, {"stage": "INTAKE"})
    case = intake["cases"]["edges"][0]["node"]["id"]
    moved = await path.run(AppRole.CASEWORKER, SAITAMA_CITY, MOVE, {"input": {"id": case, "toStage": "SHARING"}})
    assert moved["moveCaseStage"]["userErrors"] == [], moved
    monitoring = await path.run(AppRole.CASEWORKER, SAITAMA_CITY, IN_STAGE, {"stage": "MONITORING"})
    watched = monitoring["cases"]["edges"][0]["node"]["id"]
    asked = await path.run(
        AppRole.CASEWORKER, SAITAMA_CITY, REQUEST, {"input": {"caseId": watched, "subject": "CLOSURE"}}
    )
    errors = [(e["field"], e["code"]) for e in asked["requestApproval"]["userErrors"]]
    assert errors in ([], [("subject", "CONFLICT")]), asked  # a seeded case may already wait for its approval
    waiting = await path.run(AppRole.SUPERVISOR, SAITAMA_CITY, WAITING)
    approval = waiting["approvals"]["edges"][0]["node"]["id"]  # the demo data holds requests that wait
    decided = await path.run(AppRole.SUPERVISOR, SAITAMA_CITY, DECIDE, {"input": {"id": approval, "approve": True}})
    assert decided["decideApproval"]["userErrors"] == [], decided
    for role, tenant in ((AppRole.SUPERVISOR, SAITAMA_CITY), (AppRole.PLATFORM_ADMIN, SAITAMA_CITY)):
        page = await path.run(role, tenant, MEMBERSHIPS)
        await path.run(role, tenant, MEMBERSHIPS, {"after": page["memberships"]["pageInfo"]["endCursor"]})
        first = page["memberships"]["edges"][0]["node"]
        await path.run(role, tenant, NODE, {"id": first["id"]})
        granted = await path.run(
            role,
            tenant,
            GRANT,
            {
                "input": {
                    "issuer": DEFAULT_DEV_ISSUER,
                    "subject": f"routing-test:{uuid.uuid4()}",
                    "displayName": "経路 試験",
                    "role": "CASEWORKER",
                    "organizationId": first["organization"]["id"],
                }
            },
        )
        assert granted["grantMembership"]["userErrors"] == [], granted
        caseworker = next(u for u in USERS if u.role is AppRole.CASEWORKER and u.municipality_code == tenant)
        revoked = await path.run(
            role, tenant, REVOKE, {"id": encode_global_id("Membership", demo_users.membership_id(caseworker))}
        )
        assert revoked["revokeMembership"]["userErrors"] == [], revoked


async def test_no_request_fans_out_to_every_shard(
    request_path: RequestPath, coordinator_admin: asyncpg.Connection
) -> None:
    before = await _multi_shard_executions(coordinator_admin)
    await coordinator_admin.fetchval(FAN_OUT)
    fanned_out = await _multi_shard_executions(coordinator_admin)
    assert fanned_out == before + 1, "the counter sees a statement without its tenant"
    await _walk_the_request_path(request_path)
    assert len(request_path.statements) > 30
    assert await _multi_shard_executions(coordinator_admin) == fanned_out


TASKS = re.compile(r"Task Count: (\d+)")


async def test_every_statement_explains_as_one_task(request_path: RequestPath, citus_cluster: Cluster) -> None:
    await _walk_the_request_path(request_path)
    conn = await asyncpg.connect(citus_cluster.urls.app)
    tasks: dict[str, list[int]] = {}
    try:
        for sent in request_path.statements:
            # Kizuna's statements (not the transaction's, nor asyncpg's type introspection);
            # begin_request's own reads are the counters' part.
            if "kizuna." not in sent.query or sent.query == BEGIN_REQUEST_SQL:
                continue
            me = next(
                u
                for u in USERS
                if u.role is sent.role and u.municipality_code in (sent.municipality, SAITAMA_PREFECTURE)
            )
            transaction = conn.transaction()
            await transaction.start()
            try:
                await conn.execute(
                    BEGIN_REQUEST_SQL, sent.role.value, sent.municipality, str(me.user_id), str(me.organisation_id)
                )
                plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {sent.query}", *sent.args))
            finally:
                await transaction.rollback()
            tasks[sent.query] = [int(n) for n in TASKS.findall(plan)]
    finally:
        await conn.close()
    tenant_statements = {q: t for q, t in tasks.items() if "municipality_code = $1" in q}
    assert len(tenant_statements) > 10
    assert {q: t for q, t in tenant_statements.items() if t != [1]} == {}
    # Statements over global (reference) tables only, and the audit chain's lock, run on one node too.
    assert {q: t for q, t in tasks.items() if any(n != 1 for n in t)} == {}
