"""`/cases/{id}` over real HTTP with real sessions from the development IdP: a caseworker
reads its case and works on it through the page's forms; everyone else, another tenant's
case and an id that is nobody's get one and the same refusal page; a cross-site form
changes nothing; a form sent twice records once; bad input is named beside its field and
writes nothing.

The cases are opened through GraphQL (tests/test_case_records.py's `case_in`) and removed
afterwards with their records (`records_fresh`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from kizuna.schema.relay import decode_global_id, encode_global_id
from kizuna.tests.test_case_records import case_in, records_fresh  # noqa: F401  (fixtures)
from kizuna.tests.test_helper_dispatch import START, Desk, desk, provider  # noqa: F401  (fixtures)

CASEWORKER = "demo:caseworker:111007"
COORDINATOR = "demo:coordinator:111007"
SCHOOL = "demo:school_staff:111007"
WELFARE = "demo:welfare_worker:111007"
KAWAGOE = "112011"
LOGS = "SELECT count(*) FROM kizuna.contact_log WHERE municipality_code = '111007' AND case_id = $1"
VISITS = "SELECT count(*) FROM kizuna.helper_visit WHERE municipality_code = '111007' AND dispatch_id = $1"
PLANS = "SELECT count(*) FROM kizuna.support_plan WHERE municipality_code = '111007' AND case_id = $1"
STAGE = "SELECT stage FROM kizuna.carer_case WHERE municipality_code = '111007' AND id = $1"
REQUEST_ID = re.compile(r"[0-9a-f]{32}")

pytestmark = pytest.mark.usefixtures("records_fresh")


def posted(client: httpx.Client, server_url: str, path: str, fields: dict[str, Any]) -> httpx.Response:
    """A form posted as a browser posts it from Kizuna's own page (its `Origin`)."""
    return client.post(path, data=fields, headers={"origin": server_url, "sec-fetch-mode": "navigate"})


def form_of(page: str, forms: Callable[[str], list[dict[str, Any]]], form_id: str) -> dict[str, Any]:
    (form,) = [f for f in forms(page) if f["id"] == form_id]
    return form


def error_beside(page: str, field_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', page)
    assert found is not None, page
    return found.group(1)


async def test_a_caseworker_and_a_coordinator_read_the_case(
    case_in: Callable[..., Any],  # noqa: F811  (the fixture imported above)
    browser_as: Callable[[str], httpx.Client],
) -> None:
    case = await case_in("CONFERENCE")
    for subject in (CASEWORKER, COORDINATOR):
        page = browser_as(subject).get(f"/cases/{case}")
        assert page.status_code == 200, page.text
        assert page.headers["cache-control"] == "no-store"
        assert "<script" not in page.text
        assert "style=" not in page.text
        assert '<dd id="case-stage">ケース検討会議</dd>' in page.text
        # The allowed next stages only: from the conference, the multi-agency meeting or support.
        assert re.findall(r'name="toStage" value="(\w+)"', page.text) == ["MULTI_AGENCY_MEETING", "SUPPORT"]
        assert "相談受理 → 情報共有" in page.text  # the history


async def test_whoever_may_not_see_the_case_gets_the_page_of_a_missing_case(
    case_in: Callable[..., Any],  # noqa: F811  (the fixture imported above)
    browser_as: Callable[[str], httpx.Client],
    server: Any,
    admin_conn: asyncpg.Connection,
) -> None:
    ours = await case_in()
    theirs = await case_in(municipality=KAWAGOE)
    nobodys = encode_global_id("Case", uuid.uuid4())
    a_person = encode_global_id("Person", uuid.uuid4())
    refusals = [
        browser_as(CASEWORKER).get(f"/cases/{theirs}"),
        browser_as(CASEWORKER).get(f"/cases/{nobodys}"),
        browser_as(CASEWORKER).get(f"/cases/{a_person}"),
        browser_as(SCHOOL).get(f"/cases/{ours}"),
        browser_as(WELFARE).get(f"/cases/{ours}"),
        posted(browser_as(SCHOOL), server.url, f"/cases/{ours}/stage", {"toStage": "SHARING", "reason": "共有"}),
        posted(browser_as(CASEWORKER), server.url, f"/cases/{theirs}/stage", {"toStage": "SHARING", "reason": "共有"}),
    ]
    assert {r.status_code for r in refusals} == {403}
    assert "このページは表示できません" in refusals[0].text
    # The header names who is signed in; the rest of the page, request id aside, is one page.
    bodies = {REQUEST_ID.sub("…", r.text.split("</header>")[1]) for r in refusals}
    assert len(bodies) == 1, bodies
    assert await admin_conn.fetchval(STAGE, decode_global_id(ours)[1]) == "intake"


async def test_a_cross_site_form_changes_nothing(
    case_in: Callable[..., Any],  # noqa: F811  (the fixture imported above)
    browser_as: Callable[[str], httpx.Client],
    forms: Callable[[str], list[dict[str, Any]]],
    admin_conn: asyncpg.Connection,
) -> None:
    case = await case_in()
    key = decode_global_id(case)[1]
    client = browser_as(CASEWORKER)
    contact = form_of(client.get(f"/cases/{case}").text, forms, "contact-form")
    fields = contact["fields"] | {"kind": "PHONE", "contactedAt": "2026-11-01T10:00", "summary": "電話で様子を聞いた"}
    stage = {"toStage": "SHARING", "reason": "共有する"}
    for headers in ({"origin": "https://elsewhere.example"}, {"sec-fetch-site": "cross-site"}):
        refused = client.post(f"/cases/{case}/contact", data=fields, headers=headers)
        assert refused.status_code == 403, refused.text
        assert "このページは表示できません" in refused.text
        assert client.post(f"/cases/{case}/stage", data=stage, headers=headers).status_code == 403
    assert await admin_conn.fetchval(LOGS, key) == 0
    assert await admin_conn.fetchval(STAGE, key) == "intake"


async def test_a_contact_sent_twice_is_recorded_once_and_the_stage_moves(
    case_in: Callable[..., Any],  # noqa: F811  (the fixture imported above)
    browser_as: Callable[[str], httpx.Client],
    forms: Callable[[str], list[dict[str, Any]]],
    server: Any,
    admin_conn: asyncpg.Connection,
) -> None:
    case = await case_in()
    key = decode_global_id(case)[1]
    client = browser_as(CASEWORKER)
    contact = form_of(client.get(f"/cases/{case}").text, forms, "contact-form")
    assert contact["types"]["idempotencyKey"] == "hidden"
    assert contact["fields"]["idempotencyKey"]
    fields = contact["fields"] | {"kind": "HOME_VISIT", "contactedAt": "2026-11-02T15:30", "summary": "家庭訪問した"}
    for _ in range(2):
        sent = posted(client, server.url, f"/cases/{case}/contact", fields)
        assert (sent.status_code, sent.headers["location"]) == (303, f"/cases/{case}#contacts")
    assert await admin_conn.fetchval(LOGS, key) == 1
    page = client.get(f"/cases/{case}").text
    assert page.count("家庭訪問した") == 1
    assert "2026年11月2日（令和8年） 15:30" in page  # typed in Japan's time, shown in both calendars

    moved = posted(client, server.url, f"/cases/{case}/stage", {"toStage": "SHARING", "reason": "学校と共有する"})
    assert (moved.status_code, moved.headers["location"]) == (303, f"/cases/{case}#stage")
    assert await admin_conn.fetchval(STAGE, key) == "sharing"


async def test_bad_input_is_named_beside_its_field_and_writes_nothing(
    case_in: Callable[..., Any],  # noqa: F811  (the fixture imported above)
    browser_as: Callable[[str], httpx.Client],
    forms: Callable[[str], list[dict[str, Any]]],
    server: Any,
    admin_conn: asyncpg.Connection,
) -> None:
    case = await case_in()
    key = decode_global_id(case)[1]
    client = browser_as(CASEWORKER)
    contact = form_of(client.get(f"/cases/{case}").text, forms, "contact-form")
    good = contact["fields"] | {"kind": "INTERVIEW", "contactedAt": "2026-11-03T09:00", "summary": "面談した"}

    # Checked at the edge: not a date and time.
    page = posted(client, server.url, f"/cases/{case}/contact", good | {"contactedAt": "昨日"})
    assert page.status_code == 400
    assert error_beside(page.text, "contact-at") == "日付と時刻を入力してください。"
    assert 'value="昨日"' in page.text  # what was typed is kept
    assert "面談した" in page.text
    # Refused by the API: its own message, beside the field its userError names.
    page = posted(client, server.url, f"/cases/{case}/contact", good | {"contactedAt": "2099-01-01T09:00"})
    assert page.status_code == 400
    assert error_beside(page.text, "contact-at") == "未来の日付・日時は記録できません。"
    page = posted(client, server.url, f"/cases/{case}/contact", good | {"summary": "あ" * 4001})
    assert error_beside(page.text, "contact-summary") == "1〜4000文字で入力してください。"
    # A move the workflow refuses: its message beside the stage's choice.
    page = posted(client, server.url, f"/cases/{case}/stage", {"toStage": "CLOSED", "reason": "終える"})
    assert page.status_code == 400
    assert error_beside(page.text, "stage-to") == "ケースは今の段階から指定された段階へは進められません。"
    assert await admin_conn.fetchval(LOGS, key) == 0
    assert await admin_conn.fetchval(STAGE, key) == "intake"


async def test_a_helper_visit_sent_twice_is_recorded_once_and_a_refused_one_is_named(
    desk: Desk,  # noqa: F811  (the fixture imported above)
    browser_as: Callable[[str], httpx.Client],
    forms: Callable[[str], list[dict[str, Any]]],
    server: Any,
    admin_conn: asyncpg.Connection,
) -> None:
    case = desk.new_case()
    dispatch = desk.dispatch("decided", case=case)
    client = browser_as(CASEWORKER)
    visit = form_of(client.get(f"/cases/{case}").text, forms, "visit-form")
    assert visit["fields"]["dispatchId"] == dispatch
    fields = visit["fields"] | {"visitedOn": START.isoformat(), "minutes": "90", "tasks": ["HOUSEWORK", "SIBLING_CARE"]}
    for _ in range(2):
        sent = posted(client, server.url, f"/cases/{case}/visit", fields)
        assert (sent.status_code, sent.headers["location"]) == (303, f"/cases/{case}#dispatches")
    assert await admin_conn.fetchval(VISITS, decode_global_id(dispatch)[1]) == 1
    assert "2025年12月8日（令和7年） 90分：家事、きょうだいの世話" in client.get(f"/cases/{case}").text

    # The next visit, on the form as the page now renders it (a new key).
    visit = form_of(client.get(f"/cases/{case}").text, forms, "visit-form")
    again = visit["fields"] | {"visitedOn": START.isoformat(), "tasks": ["HOUSEWORK"]}
    page = posted(client, server.url, f"/cases/{case}/visit", again | {"minutes": "九十"})
    assert error_beside(page.text, "visit-minutes") == "時間を分の数（半角数字）で入力してください。"
    page = posted(client, server.url, f"/cases/{case}/visit", again | {"minutes": "121"})
    assert page.status_code == 400
    assert "120" in error_beside(page.text, "visit-minutes")
    assert await admin_conn.fetchval(VISITS, decode_global_id(dispatch)[1]) == 1


async def test_a_support_plan_written_on_the_page_can_be_sent_for_approval(
    case_in: Callable[..., Any],  # noqa: F811  (the fixture imported above)
    browser_as: Callable[[str], httpx.Client],
    forms: Callable[[str], list[dict[str, Any]]],
    server: Any,
    admin_conn: asyncpg.Connection,
) -> None:
    case = await case_in("CONFERENCE")
    key = decode_global_id(case)[1]
    client = browser_as(CASEWORKER)
    plan_form = form_of(client.get(f"/cases/{case}").text, forms, "plan-form")
    assert plan_form["action"] == f"/cases/{case}/plan"
    assert plan_form["types"]["idempotencyKey"] == "hidden"
    plan = {"goals": "朝の送迎をヘルパーと分担する", "periodStart": "2026-12-01", "periodEnd": "2027-05-31"}
    plan |= {"idempotencyKey": plan_form["fields"]["idempotencyKey"]}

    # Checked at the edge, then by the API: each message beside its field, nothing written.
    page = posted(client, server.url, f"/cases/{case}/plan", plan | {"periodStart": "来月"})
    assert page.status_code == 400
    assert error_beside(page.text, "plan-start") == "日付を入力してください。"
    assert "朝の送迎をヘルパーと分担する" in page.text  # what was typed is kept
    page = posted(client, server.url, f"/cases/{case}/plan", plan | {"periodEnd": "2028-12-01"})
    assert page.status_code == 400
    assert error_beside(page.text, "plan-end") == "計画の期間は、開始日から1年以内の終了日にしてください。"
    for headers in ({"origin": "https://elsewhere.example"}, {"sec-fetch-site": "cross-site"}):
        assert client.post(f"/cases/{case}/plan", data=plan, headers=headers).status_code == 403
    assert await admin_conn.fetchval(PLANS, key) == 0

    for _ in range(2):  # sent twice (a double click, a resubmission): written once
        sent = posted(client, server.url, f"/cases/{case}/plan", plan)
        assert (sent.status_code, sent.headers["location"]) == (303, f"/cases/{case}#approvals")
    assert await admin_conn.fetchval(PLANS, key) == 1
    shown = client.get(f"/cases/{case}").text
    assert "第1版（2026年12月1日（令和8年）〜2027年5月31日（令和9年））：朝の送迎をヘルパーと分担する" in shown
    # The approval form now names that plan.
    approval = form_of(shown, forms, "approval-form")
    asked = posted(client, server.url, f"/cases/{case}/approval", approval["fields"] | {"subject": "SUPPORT_PLAN"})
    assert asked.status_code == 303, asked.text
    assert "支援計画：承認依頼中" in client.get(f"/cases/{case}").text


async def test_the_page_shows_its_own_waiting_request_whatever_else_waits_in_the_tenant(
    case_in: Callable[..., Any],  # noqa: F811  (the fixture imported above)
    browser_as: Callable[[str], httpx.Client],
    admin_conn: asyncpg.Connection,
) -> None:
    case = await case_in("CONFERENCE")
    key = decode_global_id(case)[1]
    others = await admin_conn.fetch(
        "SELECT id FROM kizuna.carer_case WHERE municipality_code = '111007' AND id <> $1 ORDER BY id LIMIT 100", key
    )
    assert len(others) == 100
    # Its closure request a year old, behind 100 newer ones of other cases (`fresh` removes them all).
    insert = (
        "INSERT INTO kizuna.approval (municipality_code, id, case_id, subject, status, requested_by, requested_at)"
        " VALUES ('111007', $1, $2, 'closure', 'requested', 'a-colleague', now() - $3::interval)"
    )
    await admin_conn.execute(insert, uuid.uuid4(), key, dt.timedelta(days=365))
    await admin_conn.executemany(insert, [(uuid.uuid4(), row["id"], dt.timedelta()) for row in others])
    page = browser_as(CASEWORKER).get(f"/cases/{case}").text
    (waiting,) = re.findall(r'<ul id="waiting">(.*?)</ul>', page, re.S)
    assert re.findall(r"<li>([^：]+)：承認依頼中", waiting) == ["終結"]
