"""The pages of those who send referrals (schema/pages/school.py) over real HTTP, with real
sessions from the development IdP: a teacher files a concern (気づきシート) and follows its
status; a double submit sends once; bad input is shown beside its field and writes
nothing; a cross-site POST changes nothing; a sender takes a waiting referral back; a
declined one says why. Every other role gets the refusal page, and a case's address,
another organisation's referral, another tenant's and a missing one all read alike."""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from kizuna.platform.i18n import Language, Message
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.urls import asyncpg_dsn
from kizuna.tests.conftest import SEEDED, _rewind_audit, _sealed_seq
from kizuna.tests.pages.test_dashboard_http import assert_page_headers

TEACHER = "demo:school_staff:111007"
SOCIAL_WORKER = "demo:school_social_worker:111007"
WELFARE_WORKER = "demo:welfare_worker:111007"
CASEWORKER = "demo:caseworker:111007"
SUPERVISOR = "demo:supervisor:111007"
ANALYST = "demo:prefecture_analyst:110001"
KAWAGOE_TEACHER = "demo:school_staff:112011"
NOT_AVAILABLE = Message.PAGE_NOT_AVAILABLE.in_(Language.JA)


async def _sent_state(admin_url: str) -> tuple[set[uuid.UUID], dict[str, int]]:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        ids = {r["id"] for r in await conn.fetch("SELECT id FROM kizuna.referral")}
        return ids, {code: await _sealed_seq(conn, code) for code in SEEDED}
    finally:
        await conn.close()


async def _restore(admin_url: str, ids: set[uuid.UUID], seqs: dict[str, int]) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        now = {r["id"] for r in await conn.fetch("SELECT id FROM kizuna.referral")}
        await conn.execute("DELETE FROM kizuna.referral WHERE id = ANY($1)", list(now - ids))
        for code, seq in seqs.items():
            await _rewind_audit(conn, code, seq)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def sent_referrals_removed(urls: DatabaseUrls) -> Iterator[None]:
    """Afterwards, as the superuser: the referrals the module's tests sent and their audit
    events (the seeded database stays as the other tests expect it)."""
    ids, seqs = asyncio.run(_sent_state(urls.admin))
    yield
    asyncio.run(_restore(urls.admin, ids, seqs))


pytestmark = pytest.mark.usefixtures("sent_referrals_removed")


def same_origin(client: httpx.Client) -> dict[str, str]:
    """What a browser adds to a form's POST from one of Kizuna's pages."""
    return {"origin": str(client.base_url).rstrip("/"), "sec-fetch-site": "same-origin"}


def graphql(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """`query` sent to /graphql with the client's session, as an API client would."""
    response = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"kizuna-csrf": "1", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def referral_count(client: httpx.Client) -> int:
    count: int = graphql(client, "{ referrals { totalCount } }")["referrals"]["totalCount"]
    return count


def concern_form(client: httpx.Client, forms: Callable[[str], list[dict[str, Any]]]) -> dict[str, str]:
    """The concern form's fields as the page renders them (its hidden idempotency key)."""
    page = client.get("/referrals/new")
    assert page.status_code == 200, page.text
    assert_page_headers(page)
    (form,) = [f for f in forms(page.text) if f["action"] == "/referrals/new"]
    assert form["method"] == "post"
    fields: dict[str, str] = form["fields"]
    return fields


def send(client: httpx.Client, fields: dict[str, Any], **headers: str) -> httpx.Response:
    return client.post("/referrals/new", data=fields, headers=same_origin(client) | headers)


FILLED = {
    "childDisplayName": "2年 佐藤さん",
    "noticed": "毎朝遅刻する。\r\n弟の保育園の送りをしていると話した。",
    "urgency": "SOON",
    "careTasks": ["SIBLING_CARE", "HOUSEWORK"],
    "familyAware": "no",
}


def refusal_text(page: httpx.Response) -> str:
    """A refusal page without its request id: what tells one refusal from another."""
    return re.sub(r"[0-9a-f]{32}", "…", page.text)


def random_referral_id() -> str:
    return base64.urlsafe_b64encode(bytes([3]) + uuid.uuid4().bytes)[:23].decode()


def test_a_teacher_files_a_concern_and_follows_its_status(
    browser_as: Callable[[str], httpx.Client], forms: Callable[[str], list[dict[str, Any]]]
) -> None:
    teacher = browser_as(TEACHER)
    home = teacher.get("/")
    assert 'href="/referrals/new"' in home.text
    assert 'href="/referrals"' in home.text
    fields = concern_form(teacher, forms)
    assert fields["source"] == "SCHOOL"  # a school sends as a school; nothing to choose
    assert re.fullmatch(r"[0-9a-f]{32}", fields["idempotencyKey"])
    before = referral_count(teacher)

    sent = send(teacher, fields | FILLED)
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    assert re.fullmatch(r"/referrals/[A-Za-z0-9_-]{23}", location)
    referral_id = location.rsplit("/", 1)[1]
    assert referral_count(teacher) == before + 1

    # What the API stored is what was typed (the textarea's CRLF as one line break).
    stored = graphql(
        teacher,
        "query($id: ID!) { node(id: $id) { ... on Referral { status urgency noticed careTasks familyAware } } }",
        {"id": referral_id},
    )["node"]
    assert stored == {
        "status": "SUBMITTED",
        "urgency": "SOON",
        "noticed": "毎朝遅刻する。\n弟の保育園の送りをしていると話した。",
        "careTasks": ["HOUSEWORK", "SIBLING_CARE"],
        "familyAware": False,
    }
    status = teacher.get(location)
    assert status.status_code == 200, status.text
    assert_page_headers(status)
    for shown in ("受付待ち", "2年 佐藤さん", "早期対応", "家事、きょうだいの世話", "知らない", "弟の保育園の送り"):
        assert shown in status.text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日（令和(元|\d+)年） \d{1,2}:\d{2}", status.text)
    assert f'action="{location}/revoke"' in status.text

    listed = teacher.get("/referrals")
    assert listed.status_code == 200
    assert_page_headers(listed)
    row = re.search(rf'<tr data-id="{referral_id}">(.*?)</tr>', listed.text, re.S)
    assert row is not None
    assert "受付待ち" in row[1]
    assert f'href="{location}"' in row[1]


def test_a_double_submit_sends_once(
    browser_as: Callable[[str], httpx.Client], forms: Callable[[str], list[dict[str, Any]]]
) -> None:
    teacher = browser_as(TEACHER)
    fields = concern_form(teacher, forms) | FILLED | {"noticed": "二度押し"}
    before = referral_count(teacher)
    first, second = send(teacher, fields), send(teacher, fields)
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    assert referral_count(teacher) == before + 1
    # A form rendered again is a new concern: a new key.
    assert concern_form(teacher, forms)["idempotencyKey"] != fields["idempotencyKey"]


def test_bad_input_is_shown_beside_its_field_and_writes_nothing(
    browser_as: Callable[[str], httpx.Client], forms: Callable[[str], list[dict[str, Any]]]
) -> None:
    teacher = browser_as(TEACHER)
    fields = concern_form(teacher, forms)
    before = referral_count(teacher)

    blank = send(teacher, fields | FILLED | {"noticed": "   "})
    assert blank.status_code == 400
    assert_page_headers(blank)
    noticed = re.search(r'<p class="field-error" id="noticed-error">(.*?)</p>', blank.text)
    assert noticed is not None
    assert noticed[1] == Message.NOTICED_LENGTH.in_(Language.JA, max=2000)
    assert 'aria-describedby="noticed-error noticed-hint"' in blank.text
    long_name = send(teacher, fields | FILLED | {"childDisplayName": "x" * 101})
    name = re.search(r'<p class="field-error" id="childDisplayName-error">(.*?)</p>', long_name.text)
    assert name is not None
    assert name[1] == Message.CHILD_NAME_LENGTH.in_(Language.JA, max=100)
    # What was typed is kept, with the same key (sending it corrected sends once).
    (form,) = [f for f in forms(long_name.text) if f["action"] == "/referrals/new"]
    assert form["fields"]["idempotencyKey"] == fields["idempotencyKey"]
    assert form["fields"]["childDisplayName"] == "x" * 101

    no_urgency = send(teacher, fields | FILLED | {"urgency": ""})
    assert no_urgency.status_code == 400
    assert '<p class="field-error" id="urgency-error">緊急度を選んでください。</p>' in no_urgency.text

    # Values no form offers: the address is refused as it stands, nothing is sent.
    for forged in ({"urgency": "PANIC"}, {"careTasks": ["DROP TABLE"]}, {"idempotencyKey": ""}, {"source": "x"}):
        refused = send(teacher, fields | FILLED | forged)
        assert refused.status_code == 400, forged
        assert "ページの指定が正しくありません。" in refused.text
    # A source the API does not let a school send from: its message beside the source.
    medical = send(teacher, fields | FILLED | {"source": "MEDICAL"})
    assert medical.status_code == 400
    assert 'id="source-error"' in medical.text
    assert referral_count(teacher) == before


def test_a_cross_site_post_changes_nothing(
    browser_as: Callable[[str], httpx.Client], forms: Callable[[str], list[dict[str, Any]]]
) -> None:
    teacher = browser_as(TEACHER)
    fields = concern_form(teacher, forms) | FILLED
    before = referral_count(teacher)
    for cross_site in (
        {"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},  # no Origin: the browser's own word
    ):
        headers = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"} | cross_site
        refused = teacher.post("/referrals/new", data=fields, headers=headers)
        assert refused.status_code == 403, cross_site
        assert_page_headers(refused)
        assert NOT_AVAILABLE in refused.text
    assert referral_count(teacher) == before

    location = send(teacher, fields).headers["location"]
    refused = teacher.post(f"{location}/revoke", headers={"origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "受付待ち" in teacher.get(location).text


def test_the_sender_revokes_a_waiting_referral_once(
    browser_as: Callable[[str], httpx.Client], forms: Callable[[str], list[dict[str, Any]]]
) -> None:
    teacher = browser_as(TEACHER)
    location = send(teacher, concern_form(teacher, forms) | FILLED).headers["location"]
    revoked = teacher.post(f"{location}/revoke", headers=same_origin(teacher))
    assert (revoked.status_code, revoked.headers["location"]) == (303, location)
    status = teacher.get(location)
    assert "取り下げ" in status.text
    assert "/revoke" not in status.text
    again = teacher.post(f"{location}/revoke", headers=same_origin(teacher))
    assert again.status_code == 409
    assert Message.REFERRAL_ALREADY_DECIDED.in_(Language.JA) in again.text


def test_a_declined_referral_says_why(
    browser_as: Callable[[str], httpx.Client], forms: Callable[[str], list[dict[str, Any]]]
) -> None:
    teacher, caseworker = browser_as(TEACHER), browser_as(CASEWORKER)
    location = send(teacher, concern_form(teacher, forms) | FILLED).headers["location"]
    referral_id = location.rsplit("/", 1)[1]
    reason = "同じ内容の相談を、すでに受け付けています。"
    declined = graphql(
        caseworker,
        "mutation($id: ID!, $reason: String!) { declineReferral(input: {id: $id, reason: $reason}) "
        "{ userErrors { message } } }",
        {"id": referral_id, "reason": reason},
    )
    assert declined["declineReferral"]["userErrors"] == []
    status = teacher.get(location)
    assert "不受理" in status.text
    assert reason in status.text
    assert "/revoke" not in status.text
    row = re.search(rf'<tr data-id="{referral_id}">(.*?)</tr>', teacher.get("/referrals").text, re.S)
    assert row is not None
    assert "不受理" in row[1]
    assert reason in row[1]


def test_nothing_beyond_its_own_organisations_referrals_and_all_refusals_read_alike(
    browser_as: Callable[[str], httpx.Client], forms: Callable[[str], list[dict[str, Any]]]
) -> None:
    teacher = browser_as(TEACHER)
    (case_id,) = [
        n["id"] for n in graphql(browser_as(CASEWORKER), "{ cases(first: 1) { nodes { id } } }")["cases"]["nodes"]
    ]
    welfare = browser_as(WELFARE_WORKER)
    welfare_form = concern_form(welfare, forms)
    assert 'value="WELFARE_AGENCY"' in welfare.get("/referrals/new").text  # an agency chooses its source
    other_organisation = send(welfare, welfare_form | FILLED | {"source": "MEDICAL"}).headers["location"]
    kawagoe = browser_as(KAWAGOE_TEACHER)
    other_tenant = send(kawagoe, concern_form(kawagoe, forms) | FILLED).headers["location"]

    missing = teacher.get(f"/referrals/{random_referral_id()}")
    assert missing.status_code == 403
    assert_page_headers(missing)
    assert NOT_AVAILABLE in missing.text
    for address in (f"/referrals/{case_id}", other_organisation, other_tenant):
        refused = teacher.get(address)
        assert (refused.status_code, refusal_text(refused)) == (403, refusal_text(missing)), address
    # Nor taken back by a teacher of another school or municipality.
    for address in (other_organisation, other_tenant):
        refused = teacher.post(f"{address}/revoke", headers=same_origin(teacher))
        assert (refused.status_code, refusal_text(refused)) == (403, refusal_text(missing)), address
    assert "受付待ち" in welfare.get(other_organisation).text
    # The case pages are another part's: whatever serves /cases/{id} refuses a teacher.
    assert teacher.get(f"/cases/{case_id}").status_code in (403, 404)


@pytest.mark.parametrize("subject", [SOCIAL_WORKER, WELFARE_WORKER])
def test_every_referrer_gets_the_pages(browser_as: Callable[[str], httpx.Client], subject: str) -> None:
    client = browser_as(subject)
    for address in ("/referrals", "/referrals/new"):
        page = client.get(address)
        assert page.status_code == 200, (address, page.text)
        assert_page_headers(page)


@pytest.mark.parametrize("subject", [CASEWORKER, SUPERVISOR, ANALYST])
def test_other_roles_get_the_refusal_page(
    browser_as: Callable[[str], httpx.Client], forms: Callable[[str], list[dict[str, Any]]], subject: str
) -> None:
    client = browser_as(subject)
    fields = concern_form(browser_as(TEACHER), forms) | FILLED
    for page in (
        client.get("/referrals"),
        client.get("/referrals/new"),
        client.get(f"/referrals/{random_referral_id()}"),
        send(client, fields),
    ):
        assert page.status_code == 403
        assert_page_headers(page)
        assert NOT_AVAILABLE in page.text
        assert 'href="/referrals/new"' not in page.text


def test_signed_out_gets_the_sign_in_link(server: Any) -> None:
    for address in ("/referrals", "/referrals/new", f"/referrals/{random_referral_id()}"):
        page = httpx.get(f"{server.url}{address}")
        assert page.status_code == 401
        assert '<a class="button" href="/auth/login">' in page.text
