"""`/inbox` and a referral's page (`/inbox/referrals/{id}`) over real HTTP with real sessions
from the development IdP: a caseworker's and a coordinator's start page, nobody else's; the
inbox lists the referrals and repeats no form or list of choices for each; a referral's
forms run the API's mutations only from Kizuna's own origin, once for a double submit, and
refuse another tenant's referral exactly as a missing one, changing nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from kizuna.platform.vocabulary import AppRole, CaseStage
from kizuna.schema.relay import decode_global_id, encode_global_id
from kizuna.tenants.demo_users import DemoUser

CASEWORKER = "demo:caseworker:111007"
COORDINATOR = "demo:coordinator:111007"
SCHOOL = "demo:school_staff:111007"
WELFARE = "demo:welfare_worker:111007"
ANALYST = "demo:prefecture_analyst:110001"
KAWAGOE_SCHOOL = "demo:school_staff:112011"
KAWAGOE_CASEWORKER = "demo:caseworker:112011"
REFUSED = "このページは表示できません"
SAITAMA_CITY = "111007"

# The analyst's home is the dashboard, which needs the published figures.
pytestmark = pytest.mark.usefixtures("published")

Clients = Callable[[str], httpx.Client]


def graphql(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """An API client's request with the same session (the custom header proves its origin)."""
    answer = client.post("/graphql", json={"query": query, "variables": variables}, headers={"kizuna-csrf": "1"})
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def refer(client: httpx.Client, child: str) -> str:
    data = graphql(
        client,
        "mutation($input: CreateReferralInput!) { createReferral(input: $input) { referral { id } } }",
        {
            "input": {
                "source": "SCHOOL",
                "childDisplayName": child,
                "noticed": "弟の送迎で遅刻が続く。",
                "urgency": "SOON",
            }
        },
    )
    referral_id: str = data["createReferral"]["referral"]["id"]
    return referral_id


def status_of(client: httpx.Client, referral_id: str) -> tuple[str, str | None] | None:
    nodes = graphql(client, "{ referrals(first: 100) { nodes { id status decisionReason } } }")["referrals"]["nodes"]
    return next(((n["status"], n["decisionReason"]) for n in nodes if n["id"] == referral_id), None)


def post(client: httpx.Client, path: str, fields: dict[str, str], **headers: str) -> httpx.Response:
    """A form's POST as a browser sends it from Kizuna's page (its Origin), unless told otherwise."""
    sent = {"origin": str(client.base_url).rstrip("/"), "sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate"}
    return client.post(path, data=fields, headers=sent | headers)


def main_text(page: str) -> str:
    """What the page says, without the request id that makes each answer unique."""
    (main,) = re.findall(r"<main.*?</main>", page, re.S)
    return re.sub(r"[0-9a-f]{32}", "…", main)


@pytest.mark.parametrize("subject", [SCHOOL, WELFARE, ANALYST])
def test_other_roles_get_their_own_home_and_the_refusal_page_never_the_inbox(browser_as: Clients, subject: str) -> None:
    client = browser_as(subject)
    home = client.get("/")
    assert home.status_code == 200
    assert "受付箱" not in home.text
    refused = client.get("/inbox")
    assert refused.status_code == 403
    assert REFUSED in refused.text
    assert "受付待ち" not in refused.text
    assert client.get(f"/inbox/referrals/{encode_global_id('Referral', uuid.uuid4())}").status_code == 403
    # Their POST is refused before anything is sent.
    assert post(client, "/inbox/decline", {"id": "x", "reason": "r"}).status_code == 403


@pytest.mark.parametrize("subject", [CASEWORKER, COORDINATOR])
def test_a_caseworker_and_a_coordinator_start_at_the_inbox(browser_as: Clients, subject: str) -> None:
    client = browser_as(subject)
    referral_id = refer(browser_as(SCHOOL), f"中学1年 {subject[-6:]}さん")
    for path in ("/", "/inbox"):
        page = client.get(path)
        assert page.status_code == 200
        assert "<h1>受付箱</h1>" in page.text
        assert f'<a href="/inbox/referrals/{referral_id}">' in page.text
    for path in ("/", "/inbox", f"/inbox/referrals/{referral_id}"):
        page = client.get(path)
        assert page.headers["cache-control"] == "no-store"
        assert "script-src" not in page.headers["content-security-policy"]
        assert "<script" not in page.text
        assert " style=" not in page.text
    assert f'name="id" value="{referral_id}"' in page.text  # the referral's own forms


async def test_the_inbox_repeats_no_choices_and_a_referral_lists_them_once(
    browser_as: Clients, admin_conn: asyncpg.Connection, user: Callable[[AppRole, str], DemoUser]
) -> None:
    client = browser_as(CASEWORKER)
    school = browser_as(SCHOOL)
    referrals = [refer(school, f"小学2年 一覧{i}さん") for i in range(3)]
    inbox = main_text(client.get("/inbox").text)
    assert all(f'<a href="/inbox/referrals/{r}">' in inbox for r in referrals)
    assert "<form" not in inbox
    assert "<option" not in inbox
    # The referral's page: each of its forms once, and each choice once.
    page = main_text(client.get(f"/inbox/referrals/{referrals[0]}").text)
    assert re.findall(r'<form method="post" action="(/inbox/\w+)"', page) == [
        "/inbox/accept",
        "/inbox/decline",
        "/inbox/merge",
    ]
    me = str(user(AppRole.CASEWORKER, SAITAMA_CITY).user_id)
    newest = await admin_conn.fetch(
        "SELECT stage FROM kizuna.carer_case WHERE municipality_code = $1"
        " AND (assigned_worker = $2 OR coordinator = $2) ORDER BY opened_at DESC, id DESC LIMIT 100",
        SAITAMA_CITY,
        me,
    )
    (cases,) = re.findall(r'<select id="accept-caseId" name="caseId">(.*?)</select>', page, re.S)
    offered = re.findall(r'<option value="([^"]+)"', cases)
    assert len(offered) == len(set(offered)) == sum(1 for r in newest if r["stage"] != CaseStage.CLOSED.value)
    (merges,) = re.findall(r'<select id="merge-intoId" name="intoId">(.*?)</select>', page, re.S)
    accepted = await admin_conn.fetchval(
        "SELECT count(*) FROM kizuna.referral WHERE municipality_code = $1 AND status = 'accepted'", SAITAMA_CITY
    )
    assert len(set(re.findall(r'<option value="([^"]+)"', merges))) == min(50, accepted)


@pytest.mark.parametrize(("subject", "role"), [(CASEWORKER, AppRole.CASEWORKER), (COORDINATOR, AppRole.COORDINATOR)])
async def test_the_inbox_lists_my_cases_and_counts_every_one_by_stage(
    browser_as: Clients,
    admin_conn: asyncpg.Connection,
    user: Callable[[AppRole, str], DemoUser],
    subject: str,
    role: AppRole,
) -> None:
    me = str(user(role, SAITAMA_CITY).user_id)
    mine = await admin_conn.fetch(
        "SELECT id, stage FROM kizuna.carer_case"
        " WHERE municipality_code = $1 AND (assigned_worker = $2 OR coordinator = $2)",
        SAITAMA_CITY,
        me,
    )
    everyone = await admin_conn.fetchval(
        "SELECT count(*) FROM kizuna.carer_case WHERE municipality_code = $1", SAITAMA_CITY
    )
    # The demo's caseworker works every case, more than the page lists (the counts cannot
    # come from the list); its coordinator fewer (the list cannot be everyone's).
    assert len(mine) > 100 if role is AppRole.CASEWORKER else len(mine) < everyone
    page = browser_as(subject).get("/inbox").text
    counts = dict(re.findall(r'id="stage-(\w+)">[^<：]+：(\d+)件', page))
    assert counts == {stage.name: str(sum(1 for r in mine if r["stage"] == stage.value)) for stage in CaseStage}
    listed = re.findall(r'<tr><th scope="row"><a href="/cases/([^"]+)">', page)
    assert len(listed) == min(100, len(mine))
    assert {decode_global_id(case_id)[1] for case_id in listed} <= {r["id"] for r in mine}


async def test_a_referral_waiting_long_is_in_the_inbox_on_japans_day(
    browser_as: Clients, admin_conn: asyncpg.Connection, fresh: None
) -> None:
    referral_id = refer(browser_as(SCHOOL), "中学3年 待機さん")
    # Older than the tenant's 50 newest referrals, received at 23:30 UTC: 8:30 the next morning in Japan.
    await admin_conn.execute(
        "UPDATE kizuna.referral SET received_at = '2025-11-30 23:30+00' WHERE municipality_code = $1 AND id = $2",
        SAITAMA_CITY,
        decode_global_id(referral_id)[1],
    )
    newer = await admin_conn.fetchval(
        "SELECT count(*) FROM kizuna.referral WHERE municipality_code = $1 AND received_at > '2025-12-01'",
        SAITAMA_CITY,
    )
    assert newer > 50
    page = browser_as(CASEWORKER).get("/inbox").text
    assert f'<a href="/inbox/referrals/{referral_id}">' in page
    (card,) = re.findall(r"<h3[^>]*><a [^>]*>中学3年 待機さん.*?</dl>", page, re.S)
    assert "<dt>受付日</dt><dd>2025年12月1日（令和7年）</dd>" in card


def test_a_double_submit_accepts_once_into_one_new_case(browser_as: Clients, forms: Any) -> None:
    client = browser_as(CASEWORKER)
    referral_id = refer(browser_as(SCHOOL), "小学5年 受理さん")
    family = f"受理{uuid.uuid4().hex[:6]}"
    (form,) = [f for f in forms(client.get(f"/inbox/referrals/{referral_id}").text) if "accept" in f["action"]]
    assert form["fields"]["id"] == referral_id
    assert form["fields"]["idempotencyKey"]
    fields = form["fields"] | {
        "into": "new",
        "familyName": family,
        "givenName": "花子",
        "familyNameKana": "じゅり",
        "givenNameKana": "はなこ",
        "birthDate": "2015-05-05",
        "householdName": f"{family}家",
        "category": "YOUNG_CARER",
    }
    cases_before = graphql(client, "{ cases { totalCount } }")["cases"]["totalCount"]
    first = post(client, form["action"], fields)
    assert (first.status_code, first.headers["location"]) == (303, "/inbox")
    again = post(client, form["action"], fields)
    # The form again (400, as every page's form), with the API's userError: nothing more is created.
    assert again.status_code == 400
    assert 'class="field-error"' in again.text
    assert status_of(client, referral_id) == ("ACCEPTED", None)
    people = graphql(client, "query($s: String!) { people(search: $s) { totalCount } }", {"s": family})
    assert people["people"]["totalCount"] == 1
    assert graphql(client, "{ cases { totalCount } }")["cases"]["totalCount"] == cases_before + 1
    # It left the inbox, and its page has no form to act on it any more (it is now a merge target).
    assert f'href="/inbox/referrals/{referral_id}"' not in client.get("/inbox").text
    page = client.get(f"/inbox/referrals/{referral_id}").text
    assert '<dd id="status">受理（ケース化）</dd>' in page
    assert f'name="id" value="{referral_id}"' not in page


def test_a_decline_needs_its_reason_beside_the_field_then_leaves_the_inbox(browser_as: Clients) -> None:
    client = browser_as(CASEWORKER)
    referral_id = refer(browser_as(SCHOOL), "中学3年 不受理さん")
    empty = post(client, "/inbox/decline", {"id": referral_id, "reason": "  "})
    assert empty.status_code == 400
    assert 'aria-invalid="true" aria-describedby="decline-reason-error"' in empty.text
    assert '<p class="field-error" id="decline-reason-error">入力してください。</p>' in empty.text
    assert status_of(client, referral_id) == ("SUBMITTED", None)
    done = post(client, "/inbox/decline", {"id": referral_id, "reason": "市外に転居済みのため"})
    assert (done.status_code, done.headers["location"]) == (303, "/inbox")
    assert status_of(browser_as(SCHOOL), referral_id) == ("DECLINED", "市外に転居済みのため")


def test_another_tenants_referral_is_refused_as_a_missing_one_and_stays_unchanged(browser_as: Clients) -> None:
    client = browser_as(CASEWORKER)
    theirs = refer(browser_as(KAWAGOE_SCHOOL), "川越 中学2年さん")
    missing = encode_global_id("Referral", uuid.uuid4())
    answers = {
        referral_id: (
            post(client, "/inbox/decline", {"id": referral_id, "reason": "理由"}),
            post(client, "/inbox/merge", {"id": referral_id, "intoId": referral_id}),
            post(client, "/inbox/accept", {"id": referral_id, "into": "existing", "caseId": referral_id}),
        )
        for referral_id in (theirs, missing)
    }
    case = graphql(client, "{ cases(first: 1) { nodes { id } } }")["cases"]["nodes"][0]["id"]
    pages = [client.get(f"/inbox/referrals/{referral_id}") for referral_id in (theirs, missing, case)]
    assert {page.status_code for page in pages} == {403}
    assert len({main_text(page.text) for page in pages}) == 1
    for theirs_answer, missing_answer in zip(answers[theirs], answers[missing], strict=True):
        assert theirs_answer.status_code == missing_answer.status_code != 303
        assert main_text(theirs_answer.text) == main_text(missing_answer.text)
        assert "川越" not in theirs_answer.text
    assert status_of(browser_as(KAWAGOE_CASEWORKER), theirs) == ("SUBMITTED", None)


@pytest.mark.parametrize(
    "headers",
    [{"origin": "https://evil.example"}, {"origin": "null"}],
    ids=["other-origin", "opaque-origin"],
)
def test_a_cross_site_post_changes_nothing(browser_as: Clients, headers: dict[str, str]) -> None:
    client = browser_as(CASEWORKER)
    referral_id = refer(browser_as(SCHOOL), "小学6年 越境さん")
    answer = post(
        client, "/inbox/decline", {"id": referral_id, "reason": "越境"}, **headers, **{"sec-fetch-site": "cross-site"}
    )
    assert answer.status_code == 403
    assert REFUSED in answer.text
    assert status_of(client, referral_id) == ("SUBMITTED", None)


def test_a_cross_site_post_without_origin_changes_nothing(browser_as: Clients) -> None:
    client = browser_as(CASEWORKER)
    referral_id = refer(browser_as(SCHOOL), "小学4年 無印さん")
    answer = client.post(
        "/inbox/decline", data={"id": referral_id, "reason": "越境"}, headers={"sec-fetch-site": "cross-site"}
    )
    assert answer.status_code == 403
    assert status_of(client, referral_id) == ("SUBMITTED", None)


def test_a_person_already_known_is_offered_as_a_candidate_and_picked(browser_as: Clients) -> None:
    client = browser_as(CASEWORKER)
    school = browser_as(SCHOOL)
    family = f"候補{uuid.uuid4().hex[:6]}"
    person = {
        "into": "new",
        "familyName": family,
        "givenName": "健",
        "familyNameKana": "こうほ",
        "givenNameKana": "けん",
        "birthDate": "2013-01-10",
        "householdName": f"{family}家",
        "category": "YOUNG_CARER",
    }
    first = refer(school, "中学1年 候補さん")
    done = post(client, "/inbox/accept", person | {"id": first, "idempotencyKey": uuid.uuid4().hex})
    assert done.status_code == 303
    second = refer(school, "中学1年 候補さん（再）")
    offered = post(client, "/inbox/accept", person | {"id": second, "idempotencyKey": uuid.uuid4().hex})
    assert offered.status_code == 400
    (known,) = re.findall(r'name="personId" value="([^"]+)"', offered.text)
    assert "同じ氏名と生年月日の人が登録されています" in offered.text
    assert status_of(client, second) == ("SUBMITTED", None)
    picked = post(client, "/inbox/accept", {"id": second, "into": "new", "personId": known, "category": "YOUNG_CARER"})
    assert picked.status_code == 303
    assert status_of(client, second) == ("ACCEPTED", None)
    people = graphql(client, "query($s: String!) { people(search: $s) { totalCount } }", {"s": family})
    assert people["people"]["totalCount"] == 1
