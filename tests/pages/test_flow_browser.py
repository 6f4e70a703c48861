"""The whole referral-to-closure flow of issue 17 in headless Chromium with the network off,
through the pages alone, as three people each in their own browser signed in through the
development IdP's pages, on one server:

a teacher files a concern (気づきシート); a caseworker finds it in the inbox, opens it and
accepts it into a new case (recording the child), takes the case through sharing, gathering and the
conference, writes the support plan and asks for its approval; a supervisor approves it at
the desk; the caseworker starts support, records a home visit, moves to monitoring and asks
for the closure; the supervisor approves; the caseworker closes the case. The teacher then
sees the concern accepted, and of the case nothing: its address is the page of a missing
case. The final state is read back through /graphql with each person's own session.

axe-core on every page shown (no serious or critical violation), no console error but the
refusal's status, no Content-Security-Policy violation, no request off the server; a
screenshot of each step in tests/artifacts/flow-<step>.png. What the test adds is removed
afterwards (`flow_removed`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from kizuna.schema.relay import encode_global_id
from kizuna.tests.accessibility import Axe
from kizuna.tests.conftest import CASE_WORK_TABLES, Janitor, rows_and_events_removed
from kizuna.tests.ide.test_browser import Seen, browser_context, keep_screenshot
from kizuna.tests.test_case_records import RECORD_TABLES

TEACHER = "demo:school_staff:111007"
CASEWORKER = "demo:caseworker:111007"
SUPERVISOR = "demo:supervisor:111007"
# Children first; the person and household the caseworker records go after the case.
TABLES = (*RECORD_TABLES, *CASE_WORK_TABLES, "person", "household")
REQUEST_ID = re.compile(r"[0-9a-f]{32}")
REFUSED = "console: Failed to load resource: the server responded with a status of 403 (Forbidden)"
CASE_STATE = "query($id: ID!) { node(id: $id) { ... on Case { stage closedAt } } }"
REFERRAL_STATE = "{ referrals(first: 100) { nodes { id childDisplayName status } } }"

pytestmark = pytest.mark.usefixtures("published", "flow_removed")


@pytest.fixture
def flow_removed(janitor: Janitor) -> Iterator[None]:
    """Afterwards, as the superuser: the rows the flow added in the seeded tenants, and
    the audit events written meanwhile."""
    with rows_and_events_removed(janitor, TABLES):
        yield


@dataclass
class Person:
    """One person's browser: its page, what it did, and the checks every page gets."""

    name: str
    page: Page
    seen: Seen
    server_url: str
    axe: Axe
    capsys: pytest.CaptureFixture[str]

    def sign_in(self, subject: str) -> None:
        """From the home page through the development IdP's page, as a person clicks."""
        self.page.set_viewport_size({"width": 820, "height": 1180})  # a tablet, upright
        self.page.goto(f"{self.server_url}/")
        self.checked("signed-out")
        self.page.locator('a[href="/auth/login"]').click()
        expect(self.page.locator(f'button[name="subject"][value="{subject}"]')).to_be_visible()
        self.checked("sign-in")
        self.page.locator(f'button[name="subject"][value="{subject}"]').click()
        self.page.wait_for_url(f"{self.server_url}/")
        expect(self.page.locator('form[action="/auth/logout"]')).to_be_visible()

    def checked(self, step: str) -> None:
        """The page as shown now: no serious accessibility violation; its screenshot kept."""
        assert self.axe.violations(self.page) == [], f"{self.name}: {step}"
        keep_screenshot(self.page, f"flow-{self.name}-{step}.png", self.capsys)

    def answer(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """An API client's request with this browser's own session (the header proves its origin)."""
        response = self.page.request.post(
            f"{self.server_url}/graphql", data={"query": query, "variables": variables}, headers={"kizuna-csrf": "1"}
        )
        assert response.status == 200, response.text()
        answer: dict[str, Any] = response.json()
        return answer

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of an answer that has no error."""
        answer = self.answer(query, variables)
        assert "errors" not in answer, answer
        data: dict[str, Any] = answer["data"]
        return data


def move_stage(page: Page, stage: str, reason: str) -> None:
    form = page.locator("#stage-form")
    form.get_by_label(stage, exact=True).check()
    form.get_by_label("理由・経緯").fill(reason)
    form.get_by_role("button", name="段階を進める").click()
    expect(page.locator("#case-stage")).to_have_text(stage)


def ask_approval(page: Page, subject: str) -> None:
    form = page.locator("#approval-form")
    form.get_by_label(subject, exact=True).check()
    form.get_by_role("button", name="承認を依頼する").click()
    expect(page.locator("#waiting")).to_contain_text(f"{subject}：承認依頼中")


def approve_at_desk(supervisor: Person, case_id: str, step: str) -> None:
    """The supervisor opens the desk from the header and approves the case's one request."""
    page = supervisor.page
    page.locator('.site-nav a[href="/desk"]').click()
    request = page.locator(".desk-item", has=page.locator(f'a[href="/cases/{case_id}"]'))
    expect(request).to_have_count(1)
    supervisor.checked(step)
    request.get_by_role("button", name="承認する").click()
    expect(page.locator(".desk-item", has=page.locator(f'a[href="/cases/{case_id}"]'))).to_have_count(0)


def files_a_concern(teacher: Person, child: str) -> str:
    """The teacher's concern, from the header's link; the address of its status page."""
    page = teacher.page
    page.get_by_role("link", name="気づきシートを書く").first.click()
    teacher.checked("concern")
    page.get_by_label("本人の呼び名").fill(child)
    page.get_by_label("気づいたこと").fill("遅刻が増えている。弟の保育園の送迎をしていると話していた。")
    page.get_by_label("きょうだいの世話").check()
    page.get_by_label("早期対応").check()
    page.get_by_label("知らない").check()
    page.get_by_role("button", name="送信する").click()
    page.wait_for_url(f"{teacher.server_url}/referrals/*")
    expect(page.locator("#status")).to_have_text("受付待ち")
    teacher.checked("sent")
    return page.url


def takes_it_into_a_new_case(caseworker: Person, child: str, family: str) -> str:
    """From the inbox, the concern's own page, where it is accepted into a new case, the
    child recorded on the way; the case page opened from the inbox's list. The case's id."""
    page, url = caseworker.page, caseworker.server_url
    card = page.locator("article.referral", has=page.locator("h3", has_text=child))
    expect(card).to_have_count(1)
    caseworker.checked("inbox")
    card.get_by_role("link", name=child, exact=True).click()
    page.wait_for_url(f"{url}/inbox/referrals/*")
    caseworker.checked("inbox-referral")
    form = page.locator("main")
    form.get_by_label("新しいケース", exact=True).check()
    for label, value in [
        ("姓", family),
        ("名", "美咲"),
        ("姓のふりがな", "やまだ"),
        ("名のふりがな", "みさき"),
        ("生年月日（例 2012-04-01）", "2012-06-15"),
        ("世帯の呼び名", f"{family}家"),
    ]:
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_label("ケアラー区分").select_option("YOUNG_CARER")
    form.get_by_role("button", name="受理する", exact=True).click()
    page.wait_for_url(f"{url}/inbox")
    expect(card).to_have_count(0)
    page.get_by_role("link", name=f"{family} 美咲").click()
    page.wait_for_url(f"{url}/cases/*")
    expect(page.locator("#case-stage")).to_have_text("相談受理")
    caseworker.checked("case-intake")
    return page.url.removeprefix(f"{url}/cases/")


def plans_at_the_conference(caseworker: Person) -> None:
    """Through the workflow to the conference, which writes the plan; its approval asked for."""
    page = caseworker.page
    move_stage(page, "情報共有", "学校・保育園と情報共有")
    move_stage(page, "情報収集", "家庭訪問で母の病状とケアの内容を聞き取る")
    move_stage(page, "ケース検討会議", "ケース検討会議を開く")
    plan = page.locator("#plan-form")
    plan.get_by_label("目標").fill("朝の送迎を子育て世帯ヘルパーと分担し、本人が遅刻せず登校できるようにする。")
    plan.get_by_label("開始日", exact=True).fill("2026-12-01")
    plan.get_by_label("終了日（開始日から1年以内）").fill("2027-05-31")
    plan.get_by_role("button", name="支援計画を記録する").click()
    expect(page.locator(".plans")).to_contain_text("第1版（2026年12月1日（令和8年）〜")
    ask_approval(page, "支援計画")
    caseworker.checked("case-plan")


def supports_until_closure_is_asked(caseworker: Person) -> None:
    """Support under the approved plan, a home visit recorded, monitoring, the closure asked for."""
    page = caseworker.page
    page.reload()
    move_stage(page, "支援", "承認された計画で支援を始める")
    contact = page.locator("#contact-form")
    contact.get_by_label("種類").select_option(label="家庭訪問")
    contact.get_by_label("日時").fill("2026-11-20T16:00")
    contact.get_by_label("内容").fill("家庭訪問。本人は始業に間に合って登校できている。")
    contact.get_by_role("button", name="記録する").click()
    expect(page.locator("#contact-list")).to_contain_text("始業に間に合って登校できている")
    move_stage(page, "進行管理（モニタリング）", "進行管理会議で経過を確認")
    ask_approval(page, "終結")
    caseworker.checked("case-closure-asked")


def sees_the_concern_accepted_and_nothing_of_the_case(teacher: Person, status_page: str, case_id: str) -> None:
    """The status page says accepted; the case's address is the page of nobody's case."""
    teacher.page.goto(status_page)
    expect(teacher.page.locator("#status")).to_have_text("受理（ケース化）")
    teacher.checked("accepted")
    nobodys = encode_global_id("Case", uuid.uuid4())
    shown = []
    for case in (case_id, nobodys):
        answer = teacher.page.goto(f"{teacher.server_url}/cases/{case}")
        assert answer is not None
        assert answer.status == 403
        shown.append(REQUEST_ID.sub("…", teacher.page.locator("main").inner_text()))
    assert shown[0] == shown[1]
    assert "このページは表示できません" in shown[0]
    teacher.checked("case-refused")
    # The API answers the teacher about the case exactly as about nobody's.
    theirs, nobody = (teacher.answer(CASE_STATE, {"id": case}) for case in (case_id, nobodys))
    assert theirs["data"] == nobody["data"] == {"node": None}
    assert REQUEST_ID.sub("…", str(theirs["errors"])) == REQUEST_ID.sub("…", str(nobody["errors"]))


def test_a_concern_goes_from_a_teacher_to_a_closed_case_through_the_pages(
    chromium: Browser, server: Any, axe: Axe, capsys: pytest.CaptureFixture[str]
) -> None:
    url: str = server.url
    mark = uuid.uuid4().hex[:4]
    child, family = f"中学2年 山田{mark}さん", f"山田{mark}"
    with ExitStack() as stack:
        # Each in a browser context of its own: its own cookies, its own session.
        teacher, caseworker, supervisor = (
            Person(name, *stack.enter_context(browser_context(chromium)), server_url=url, axe=axe, capsys=capsys)
            for name in ("teacher", "caseworker", "supervisor")
        )
        teacher.sign_in(TEACHER)
        teacher.checked("home")
        status_page = files_a_concern(teacher, child)

        caseworker.sign_in(CASEWORKER)  # lands on the inbox
        case_id = takes_it_into_a_new_case(caseworker, child, family)
        plans_at_the_conference(caseworker)

        supervisor.sign_in(SUPERVISOR)
        supervisor.checked("home")
        approve_at_desk(supervisor, case_id, "desk-plan")

        supports_until_closure_is_asked(caseworker)

        supervisor.page.goto(f"{url}/")
        approve_at_desk(supervisor, case_id, "desk-closure")

        caseworker.page.reload()
        move_stage(caseworker.page, "終結", "登校が安定し、送迎の分担が定着した")
        expect(caseworker.page.locator("#history")).to_contain_text("登校が安定し、送迎の分担が定着した")
        caseworker.checked("case-closed")
        assert caseworker.graphql(CASE_STATE, {"id": case_id})["node"]["stage"] == "CLOSED"

        sees_the_concern_accepted_and_nothing_of_the_case(teacher, status_page, case_id)
        (sent,) = [r for r in teacher.graphql(REFERRAL_STATE)["referrals"]["nodes"] if r["childDisplayName"] == child]
        assert sent["status"] == "ACCEPTED"

        for person in (teacher, caseworker, supervisor):
            assert person.seen.off_server(url) == [], person.name
        assert teacher.seen.errors == [REFUSED, REFUSED]  # the two refusal pages' 403, and nothing else
        assert caseworker.seen.errors == []
        assert supervisor.seen.errors == []
