"""The case page in headless Chromium with the network off: a caseworker signs in through
the development IdP's pages, opens a case in support, records a home visit, moves the case
to monitoring, asks for its closure and sees the request waiting; then asks again and
reads the API's refusal beside the form. No serious or critical accessibility violation
(axe-core), no console error, no Content-Security-Policy violation; screenshots in
tests/artifacts/.

The case is opened through GraphQL as in tests/test_case_records.py and removed afterwards
with its records and audit events (`removed_afterwards`: the cleanup of `records_fresh`
and `fresh`, on a thread of its own, since Playwright's synchronous API holds this one's
event loop).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from kizuna.platform.vocabulary import AppRole
from kizuna.tests.accessibility import Axe
from kizuna.tests.conftest import CASE_WORK_TABLES, Janitor, rows_and_events_removed
from kizuna.tests.ide.test_browser import Seen, assert_stayed_offline_and_clean, keep_screenshot
from kizuna.tests.test_case_records import ACCEPT, CONCERN, DECIDE, MOVE, PLAN, RECORD_TABLES, SEND, ok

SAITAMA_CITY = "111007"
CASEWORKER = "demo:caseworker:111007"
REQUEST = """mutation($input: RequestApprovalInput!) { requestApproval(input: $input) {
  approval { id } userErrors { field message code } } }"""
PERSON = "{ people(first: 1) { nodes { id } } }"

TABLES = (*RECORD_TABLES, *CASE_WORK_TABLES)  # children first

pytestmark = pytest.mark.usefixtures("removed_afterwards")


@pytest.fixture
def removed_afterwards(janitor: Janitor) -> Iterator[None]:
    """Afterwards, as the superuser: the rows the test added to the case work's tables in
    the seeded tenants, and the audit events written meanwhile."""
    with rows_and_events_removed(janitor, TABLES):
        yield


def a_case_in_support(graphql: Callable[..., Any]) -> str:
    """A new case of さいたま市 moved through GraphQL to support, its plan approved."""

    def run(query: str, role: AppRole, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = graphql(query, role, SAITAMA_CITY, variables)
        return body

    (person,) = run(PERSON, AppRole.CASEWORKER)["data"]["people"]["nodes"]
    sent = ok(run(SEND, AppRole.SCHOOL_STAFF, {"input": CONCERN}), "createReferral")
    into = {"id": sent["referral"]["id"], "personId": person["id"], "category": "YOUNG_CARER"}
    case: str = ok(run(ACCEPT, AppRole.CASEWORKER, {"input": into}), "acceptReferral")["case"]["id"]
    for step in ("SHARING", "GATHERING", "CONFERENCE"):
        ok(run(MOVE, AppRole.CASEWORKER, {"input": {"id": case, "toStage": step}}), "moveCaseStage")
    today = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()
    plan = {"caseId": case, "goals": "家事の負担を減らす", "periodStart": today.isoformat(),
            "periodEnd": (today + dt.timedelta(days=180)).isoformat()}  # fmt: skip
    plan_id = ok(run(PLAN, AppRole.CASEWORKER, {"input": plan}), "createSupportPlan")["supportPlan"]["id"]
    asked = {"caseId": case, "subject": "SUPPORT_PLAN", "supportPlanId": plan_id}
    approval = ok(run(REQUEST, AppRole.CASEWORKER, {"input": asked}), "requestApproval")["approval"]["id"]
    ok(run(DECIDE, AppRole.SUPERVISOR, {"input": {"id": approval, "approve": True}}), "decideApproval")
    ok(run(MOVE, AppRole.CASEWORKER, {"input": {"id": case, "toStage": "SUPPORT"}}), "moveCaseStage")
    return case


def test_a_caseworker_records_a_visit_moves_the_case_and_asks_for_its_closure(
    browse: tuple[Page, Seen],
    server: Any,
    axe: Axe,
    graphql: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = a_case_in_support(graphql)
    page, seen = browse
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet, upright
    page.goto(f"{server.url}/auth/login")
    page.locator(f'button[name="subject"][value="{CASEWORKER}"]').click()
    page.wait_for_url(f"{server.url}/")
    page.goto(f"{server.url}/cases/{case}")
    expect(page.locator("#case-stage")).to_have_text("支援")
    assert axe.violations(page) == []
    keep_screenshot(page, "case-case.png", capsys)

    contact = page.locator("#contact-form")
    contact.get_by_label("種類").select_option(label="家庭訪問")
    contact.get_by_label("日時").fill("2026-11-20T16:00")
    contact.get_by_label("内容").fill("家庭訪問。本人は部活に戻れた。")
    contact.get_by_role("button", name="記録する").click()
    expect(page.locator("#contact-list")).to_contain_text("2026年11月20日（令和8年） 16:00 家庭訪問")
    expect(page.locator("#contact-list")).to_contain_text("本人は部活に戻れた")

    stage = page.locator("#stage-form")
    stage.get_by_label("進行管理（モニタリング）").check()
    stage.get_by_label("理由・経緯").fill("ヘルパー派遣が定着した")
    stage.get_by_role("button", name="段階を進める").click()
    expect(page.locator("#case-stage")).to_have_text("進行管理（モニタリング）")
    expect(page.locator("#history")).to_contain_text("ヘルパー派遣が定着した")

    approval = page.locator("#approval-form")
    approval.get_by_label("終結").check()
    approval.get_by_role("button", name="承認を依頼する").click()
    expect(page.locator("#waiting")).to_contain_text("終結：承認依頼中")

    assert_stayed_offline_and_clean(seen, server.url)

    # Asked again: the API refuses, and the page (answered 400) says why beside the choice.
    page.locator("#approval-form").get_by_label("終結").check()
    page.locator("#approval-form").get_by_role("button", name="承認を依頼する").click()
    expect(page.locator("#approval-subject-error")).to_have_text("この承認は、すでに依頼されて判断を待っています。")
    expect(page.locator("#waiting li")).to_have_count(1)
    assert axe.violations(page) == []
    keep_screenshot(page, "case-case-refused.png", capsys)
    assert seen.errors == ["console: Failed to load resource: the server responded with a status of 400 (Bad Request)"]
