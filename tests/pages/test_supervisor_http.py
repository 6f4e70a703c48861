"""The supervisor's desk over real HTTP with real sessions from the development IdP: only a
supervisor gets it; its forms decide through the API's own mutation, with the API's
userErrors beside their fields and 303 after success; another tenant's id is refused like
a missing one; a cross-site POST changes nothing; the audit log's filters are checked at
the edge and passed to the API.

Every approval here is requested by the test (`waiting_approval`); `fresh` removes them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from kizuna.platform.i18n import Language, Message
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import encode_global_id
from kizuna.tenants import demo_users
from kizuna.tests.conftest import Tidy

SUPERVISOR = "demo:supervisor:112011"
REFUSED_ROLES = ("demo:caseworker:112011", "demo:school_staff:112011", "demo:prefecture_analyst:110001")
KAWAGOE = "112011"
SAITAMA_CITY = "111007"
NOT_AVAILABLE = "このページは表示できません"
ERRORS = "userErrors { field message code }"
SEND = f"mutation($input: CreateReferralInput!) {{ createReferral(input: $input) {{ referral {{ id }} {ERRORS} }} }}"
ACCEPT = f"mutation($input: AcceptReferralInput!) {{ acceptReferral(input: $input) {{ case {{ id }} {ERRORS} }} }}"
MOVE = f"mutation($input: MoveCaseStageInput!) {{ moveCaseStage(input: $input) {{ case {{ id }} {ERRORS} }} }}"
PLAN = f"""mutation($input: CreateSupportPlanInput!) {{ createSupportPlan(input: $input) {{
  supportPlan {{ id }} {ERRORS} }} }}"""
REQUEST = f"""mutation($input: RequestApprovalInput!) {{ requestApproval(input: $input) {{
  approval {{ id }} {ERRORS} }} }}"""
PEOPLE = "{ people(first: 1) { nodes { id } } }"
APPROVALS = "{ approvals(first: 100) { nodes { id status comment } } }"
APPROVAL_ROWS = "SELECT a.*::text FROM kizuna.approval a WHERE municipality_code = $1 ORDER BY id"

pytestmark = pytest.mark.usefixtures("fresh")


def _payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    payload: dict[str, Any] = body["data"][field]
    assert payload["userErrors"] == [], payload
    return payload


def waiting_approval(
    graphql: Callable[..., Any], municipality: str = KAWAGOE, requester: AppRole = AppRole.CASEWORKER
) -> str:
    """A support plan's approval requested by `requester`: a school's referral accepted
    into a case, moved to the conference, its plan written. The approval's id."""
    person = graphql(PEOPLE, AppRole.CASEWORKER, municipality)["data"]["people"]["nodes"][0]["id"]
    concern = {"source": "SCHOOL", "childDisplayName": "中学1年 試験さん", "noticed": "欠席が続く", "urgency": "SOON"}
    sent = _payload(graphql(SEND, AppRole.SCHOOL_STAFF, municipality, {"input": concern}), "createReferral")
    into = {"id": sent["referral"]["id"], "personId": person, "category": "YOUNG_CARER"}
    case = _payload(graphql(ACCEPT, AppRole.CASEWORKER, municipality, {"input": into}), "acceptReferral")["case"]["id"]
    for stage in ("SHARING", "GATHERING", "CONFERENCE"):
        moved = {"id": case, "toStage": stage, "reason": "試験"}
        _payload(graphql(MOVE, AppRole.CASEWORKER, municipality, {"input": moved}), "moveCaseStage")
    plan = {"caseId": case, "goals": "家事の負担を減らす", "periodStart": "2026-12-01", "periodEnd": "2027-05-31"}
    plan_id = _payload(graphql(PLAN, AppRole.CASEWORKER, municipality, {"input": plan}), "createSupportPlan")
    asked = {"caseId": case, "subject": "SUPPORT_PLAN", "supportPlanId": plan_id["supportPlan"]["id"]}
    approval: str = _payload(graphql(REQUEST, requester, municipality, {"input": asked}), "requestApproval")[
        "approval"
    ]["id"]
    return approval


def status_of(graphql: Callable[..., Any], approval: str, municipality: str = KAWAGOE) -> tuple[str, str | None]:
    nodes = graphql(APPROVALS, AppRole.SUPERVISOR, municipality)["data"]["approvals"]["nodes"]
    (found,) = [n for n in nodes if n["id"] == approval]
    return found["status"], found["comment"]


def post(client: httpx.Client, path: str, data: dict[str, str], **headers: str) -> httpx.Response:
    """A form's POST as the browser sends it from the desk itself (its Origin), unless
    `headers` say otherwise."""
    same_site = {"origin": str(client.base_url).rstrip("/"), "sec-fetch-site": "same-origin"}
    return client.post(path, data=data, headers=same_site | headers)


def post_json(client: httpx.Client, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    """A GraphQL request from the desk's origin with the session cookie, as GraphiQL sends it."""
    same_site = {"origin": str(client.base_url).rstrip("/"), "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors"}
    answer = client.post("/graphql", json=body, headers=same_site | {"sec-fetch-dest": "empty"} | headers)
    assert answer.status_code == 200, answer.text
    decoded: dict[str, Any] = answer.json()
    return decoded


def without_request_id(page: str) -> str:
    return re.sub(r"[0-9a-f]{32}", "", page)


def test_only_a_supervisor_gets_the_desk_and_the_audit_log(browser_as: Callable[[str], httpx.Client]) -> None:
    desk = browser_as(SUPERVISOR).get("/desk")
    assert desk.status_code == 200, desk.text
    assert '<a class="site-nav__link" href="/desk" aria-current="page">' in desk.text  # the header's link
    assert desk.headers["cache-control"] == "no-store"
    audit = browser_as(SUPERVISOR).get("/desk/audit")
    assert (audit.status_code, "監査記録" in audit.text) == (200, True)
    for subject in REFUSED_ROLES:
        client = browser_as(subject)
        for path in ("/desk", "/desk/audit"):
            refused = client.get(path)
            assert (refused.status_code, NOT_AVAILABLE in refused.text) == (403, True), (subject, path)
            assert 'href="/desk"' not in refused.text
        for path in ("/desk/approvals", "/desk/memberships"):
            refused = post(
                client, path, {"id": "x", "decision": "approve", "role": "CASEWORKER", "organizationId": "x"}
            )
            assert (refused.status_code, NOT_AVAILABLE in refused.text) == (403, True), (subject, path)


def test_a_supervisor_approves_one_request_and_rejects_another_with_a_reason(
    browser_as: Callable[[str], httpx.Client], graphql: Callable[..., Any]
) -> None:
    approved, rejected = [waiting_approval(graphql) for _ in range(2)]
    client = browser_as(SUPERVISOR)
    desk = client.get("/desk").text
    assert f'id="approval-{approved}"' in desk
    assert f'id="approval-{rejected}"' in desk

    done = post(client, "/desk/approvals", {"id": approved, "decision": "approve", "comment": ""})
    assert (done.status_code, done.headers["location"]) == (303, "/desk")
    assert status_of(graphql, approved) == ("APPROVED", None)

    # No reason: the API's message beside the reason's field, and nothing decided.
    bare = post(client, "/desk/approvals", {"id": rejected, "decision": "reject", "comment": ""})
    assert bare.status_code == 400
    section = bare.text.split(f'id="approval-{rejected}"')[1].split("</li>")[0]
    assert re.search(r'aria-invalid="true" aria-describedby="comment-\d+-error"', section), section
    assert re.search(r'<p id="comment-\d+-error" class="field-error">[^<]+</p>', section), section
    assert status_of(graphql, rejected) == ("REQUESTED", None)

    reason = "目標を具体的に書いてください。"
    done = post(client, "/desk/approvals", {"id": rejected, "decision": "reject", "comment": reason})
    assert (done.status_code, done.headers["location"]) == (303, "/desk")
    assert status_of(graphql, rejected) == ("REJECTED", reason)
    after = client.get("/desk").text
    assert f'id="approval-{approved}"' not in after
    assert f'id="approval-{rejected}"' not in after


def test_a_browser_preferring_english_reads_the_apis_messages_in_japanese_on_the_pages_only(
    browser_as: Callable[[str], httpx.Client], graphql: Callable[..., Any]
) -> None:
    approval = waiting_approval(graphql)
    client = browser_as(SUPERVISOR)
    english = {"accept-language": "en-US,en;q=0.9"}
    bare = post(client, "/desk/approvals", {"id": approval, "decision": "reject"}, **english)
    assert bare.status_code == 400
    assert Message.REJECTION_NEEDS_REASON.in_(Language.JA) in bare.text
    assert Message.REJECTION_NEEDS_REASON.in_(Language.EN) not in bare.text
    # /graphql still answers in the language asked for, the same session's request too.
    decide = "mutation($input: DecideApprovalInput!) { decideApproval(input: $input) { userErrors { message } } }"
    variables = {"input": {"id": approval, "approve": False}}
    answer = post_json(client, {"query": decide, "variables": variables}, **english)
    assert answer["data"]["decideApproval"]["userErrors"] == [
        {"message": Message.REJECTION_NEEDS_REASON.in_(Language.EN)}
    ]
    assert status_of(graphql, approval) == ("REQUESTED", None)


def test_a_supervisor_cannot_approve_their_own_request_and_reads_why(
    browser_as: Callable[[str], httpx.Client], graphql: Callable[..., Any]
) -> None:
    own = waiting_approval(graphql, requester=AppRole.SUPERVISOR)
    selfish = post(browser_as(SUPERVISOR), "/desk/approvals", {"id": own, "decision": "approve"})
    assert selfish.status_code == 400
    section = selfish.text.split(f'id="approval-{own}"')[1].split("</li>")[0]
    assert re.search(r'<p role="alert" class="field-error">[^<]+</p>', section), section
    assert status_of(graphql, own) == ("REQUESTED", None)


async def test_another_tenants_approval_is_refused_like_a_missing_one_and_nothing_changes(
    browser_as: Callable[[str], httpx.Client], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
) -> None:
    theirs = waiting_approval(graphql, SAITAMA_CITY)
    before = await admin_conn.fetch(APPROVAL_ROWS, SAITAMA_CITY)
    client = browser_as(SUPERVISOR)
    crossed = post(client, "/desk/approvals", {"id": theirs, "decision": "approve"})
    missing = post(client, "/desk/approvals", {"id": encode_global_id("Approval", uuid.uuid4()), "decision": "approve"})
    assert crossed.status_code == missing.status_code == 400
    assert without_request_id(crossed.text) == without_request_id(missing.text)
    assert '<div role="alert" class="notice notice--error">' in crossed.text
    assert await admin_conn.fetch(APPROVAL_ROWS, SAITAMA_CITY) == before
    assert status_of(graphql, theirs, SAITAMA_CITY) == ("REQUESTED", None)


@pytest.mark.parametrize(
    "headers",
    [{"origin": "https://elsewhere.example", "sec-fetch-site": "cross-site"}, {"sec-fetch-site": "cross-site"}],
    ids=["another-origin", "no-origin-cross-site"],
)
def test_a_cross_site_post_changes_nothing(
    browser_as: Callable[[str], httpx.Client],
    graphql: Callable[..., Any],
    settings: Settings,
    tidy: Tidy,
    headers: dict[str, str],
) -> None:
    approval = waiting_approval(graphql)
    client = browser_as(SUPERVISOR)
    forged = client.post("/desk/approvals", data={"id": approval, "decision": "approve"}, headers=headers)
    assert (forged.status_code, NOT_AVAILABLE in forged.text) == (403, True)
    assert status_of(graphql, approval) == ("REQUESTED", None)
    department = encode_global_id("Organization", demo_users.organisation_id(KAWAGOE, "department"))
    grant = {"displayName": "偽", "subject": tidy.subject(), "issuer": settings.issuer, "role": "CASEWORKER"}
    forged = client.post("/desk/memberships", data=grant | {"organizationId": department}, headers=headers)
    assert (forged.status_code, NOT_AVAILABLE in forged.text) == (403, True)
    assert memberships_of(graphql, tidy.subject()) == []


def test_the_audit_logs_filters_are_checked_before_anything_is_read(
    browser_as: Callable[[str], httpx.Client],
) -> None:
    client = browser_as(SUPERVISOR)
    bad = client.get("/desk/audit", params={"from": "2026-13-01", "to": "2026-01-01", "object": "not-an-id"})
    assert bad.status_code == 400
    for name in ("from", "object"):
        assert f'id="{name}" name="{name}"' in bad.text
        assert f'<p id="{name}-error" class="field-error">' in bad.text, name
    backwards = client.get("/desk/audit", params={"from": "2026-02-01", "to": "2026-01-01"})
    assert (backwards.status_code, '<p id="to-error" class="field-error">' in backwards.text) == (400, True)


def test_the_audit_log_shows_what_the_api_answers_for_the_filters(
    browser_as: Callable[[str], httpx.Client],
    graphql: Callable[..., Any],
    user: Callable[[AppRole, str], Any],
) -> None:
    approval = waiting_approval(graphql)
    client = browser_as(SUPERVISOR)
    assert post(client, "/desk/approvals", {"id": approval, "decision": "approve"}).status_code == 303
    page = client.get("/desk/audit", params={"action": "approval.decide", "object": approval})
    assert page.status_code == 200, page.text
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", page.text, re.S)
    assert len(rows) == 1, rows
    assert "approval.decide" in rows[0]
    assert approval in rows[0]
    assert user(AppRole.SUPERVISOR, KAWAGOE).display_name in rows[0]  # who, by the membership's name
    nothing = client.get("/desk/audit", params={"action": "no.such.action"})
    assert "条件に合う記録はありません" in nothing.text


GRANT = f"""mutation($input: GrantMembershipInput!) {{
  grantMembership(input: $input) {{ membership {{ id }} {ERRORS} }} }}"""
MEMBERSHIPS = "{ memberships(first: 100, includeRevoked: true) { nodes { id active } } }"


def test_a_supervisor_revokes_a_membership_from_the_desk(
    browser_as: Callable[[str], httpx.Client], graphql: Callable[..., Any], settings: Settings, tidy: Tidy
) -> None:
    organisation = encode_global_id("Organization", demo_users.organisation_id(KAWAGOE, "department"))
    granted = {
        "issuer": settings.issuer,
        "subject": tidy.subject(),
        "displayName": "試験 職員",
        "role": "CASEWORKER",
        "organizationId": organisation,
    }
    made = _payload(graphql(GRANT, AppRole.SUPERVISOR, KAWAGOE, {"input": granted}), "grantMembership")
    membership = made["membership"]["id"]
    client = browser_as(SUPERVISOR)
    assert f'id="membership-{membership}"' in client.get("/desk").text

    done = post(client, "/desk/memberships/revoke", {"id": membership})
    assert (done.status_code, done.headers["location"]) == (303, "/desk")
    nodes = graphql(MEMBERSHIPS, AppRole.SUPERVISOR, KAWAGOE)["data"]["memberships"]["nodes"]
    assert {"id": membership, "active": False} in nodes
    assert f'id="membership-{membership}"' not in client.get("/desk").text


CHOICES = "query($code: String!) { grantableRoles organizations(municipalityCode: $code) { id } }"


def options(page: str, name: str) -> list[str]:
    """The values a select of the page offers, but its "選んでください"."""
    select = page.split(f'name="{name}"')[1].split("</select>", maxsplit=1)[0]
    return [value for value in re.findall(r'<option value="([^"]*)"', select) if value]


def grant_form(client: httpx.Client, forms: Callable[[str], list[dict[str, Any]]]) -> dict[str, str]:
    """The grant form's fields as the desk renders them (its idempotency key, its IdP)."""
    (form,) = [f for f in forms(client.get("/desk").text) if f["action"] == "/desk/memberships"]
    fields: dict[str, str] = form["fields"]
    return fields


def memberships_of(graphql: Callable[..., Any], subject: str) -> list[dict[str, Any]]:
    listed = "{ memberships(first: 100, includeRevoked: true) { nodes { id subject role organization { id } } } }"
    nodes = graphql(listed, AppRole.SUPERVISOR, KAWAGOE)["data"]["memberships"]["nodes"]
    return [node for node in nodes if node["subject"] == subject]


def test_a_supervisor_grants_a_membership_once_from_the_choices_the_api_offers(
    browser_as: Callable[[str], httpx.Client],
    graphql: Callable[..., Any],
    forms: Callable[[str], list[dict[str, Any]]],
    settings: Settings,
    tidy: Tidy,
) -> None:
    client = browser_as(SUPERVISOR)
    desk = client.get("/desk").text
    choices = graphql(CHOICES, AppRole.SUPERVISOR, KAWAGOE, {"code": KAWAGOE})["data"]
    assert options(desk, "role") == choices["grantableRoles"]
    assert sorted(options(desk, "organizationId")) == sorted(o["id"] for o in choices["organizations"])
    fields = grant_form(client, forms)
    assert fields["issuer"] == settings.issuer
    assert len(fields["idempotencyKey"]) == 32

    school = encode_global_id("Organization", demo_users.organisation_id(KAWAGOE, "junior_high_school/0"))
    subject = tidy.subject()
    sent = fields | {"displayName": "試験 先生", "subject": subject, "role": "SCHOOL_STAFF", "organizationId": school}
    first, again = post(client, "/desk/memberships", sent), post(client, "/desk/memberships", sent)
    assert [(r.status_code, r.headers["location"]) for r in (first, again)] == [(303, "/desk")] * 2
    (granted,) = memberships_of(graphql, subject)  # the double submit granted once
    assert (granted["role"], granted["organization"]["id"]) == ("SCHOOL_STAFF", school)
    assert f'id="membership-{granted["id"]}"' in client.get("/desk").text


def test_the_grant_forms_refusals_are_beside_their_fields_and_grant_nothing(
    browser_as: Callable[[str], httpx.Client],
    graphql: Callable[..., Any],
    forms: Callable[[str], list[dict[str, Any]]],
    tidy: Tidy,
) -> None:
    client = browser_as(SUPERVISOR)
    fields = grant_form(client, forms)
    department = encode_global_id("Organization", demo_users.organisation_id(KAWAGOE, "department"))
    subject = tidy.subject()
    sent = fields | {"displayName": "試験 職員", "subject": subject, "role": "CASEWORKER", "organizationId": department}

    untrusted = post(client, "/desk/memberships", sent | {"issuer": "https://idp.example.org/evil"})
    assert untrusted.status_code == 400
    assert re.search(r'<p id="grant-issuer-error" class="field-error">[^<]+</p>', untrusted.text)
    assert 'id="grant-issuer" name="issuer" type="text" autocomplete="off" value="https://idp.example.org/evil"' in (
        untrusted.text
    )
    assert 'aria-invalid="true" aria-describedby="grant-issuer-error grant-issuer-hint"' in untrusted.text
    kept = grant_form_of(untrusted.text, forms)
    assert (kept["subject"], kept["idempotencyKey"]) == (subject, fields["idempotencyKey"])

    unchosen = post(client, "/desk/memberships", sent | {"role": ""})
    assert unchosen.status_code == 400
    assert '<p id="grant-role-error" class="field-error">役割を選んでください。</p>' in unchosen.text
    assert memberships_of(graphql, subject) == []


def grant_form_of(page: str, forms: Callable[[str], list[dict[str, Any]]]) -> dict[str, str]:
    (form,) = [f for f in forms(page) if f["action"] == "/desk/memberships"]
    fields: dict[str, str] = form["fields"]
    return fields


async def test_another_tenants_organisation_is_refused_like_a_missing_one_and_grants_nothing(
    browser_as: Callable[[str], httpx.Client],
    forms: Callable[[str], list[dict[str, Any]]],
    admin_conn: asyncpg.Connection,
    tidy: Tidy,
) -> None:
    client = browser_as(SUPERVISOR)
    sent = grant_form(client, forms) | {"displayName": "試験 職員", "subject": tidy.subject(), "role": "CASEWORKER"}
    theirs = encode_global_id("Organization", demo_users.organisation_id(SAITAMA_CITY, "department"))
    missing = encode_global_id("Organization", uuid.uuid4())
    answers = [post(client, "/desk/memberships", sent | {"organizationId": org}) for org in (theirs, missing)]
    assert [a.status_code for a in answers] == [400, 400]
    assert without_request_id(answers[0].text) == without_request_id(answers[1].text)
    assert Message.PAGE_BAD_REQUEST.in_(Language.JA) in answers[0].text
    ours = encode_global_id("Organization", demo_users.organisation_id(KAWAGOE, "department"))
    above = post(client, "/desk/memberships", sent | {"organizationId": ours, "role": "SUPERVISOR"})
    assert without_request_id(above.text) == without_request_id(answers[1].text)  # a role not offered
    users = "SELECT count(*) FROM kizuna.app_user WHERE subject LIKE $1"
    assert await admin_conn.fetchval(users, tidy.prefix + "%") == 0
