"""The supervisor's desk in headless Chromium with the network off: a supervisor signs in
through the development IdP's pages, follows the header's link to the desk, approves one
request, tries to reject another without a reason (the API's message beside the field),
rejects it with one, filters the audit log down to its own decisions, and grants a
teacher's membership with the desk's form. axe-core on each
page (no serious or critical violation); console errors, uncaught exceptions and policy
violations fail the test; screenshots in tests/artifacts/.

The approvals are requested over GraphQL by the test (`waiting_approval`) and removed
afterwards, with the user and membership the form granted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import pytest
from playwright.sync_api import Locator, Page, expect

from kizuna.tests.accessibility import Axe
from kizuna.tests.conftest import CASE_WORK_TABLES, Janitor, rows_and_events_removed
from kizuna.tests.ide.test_browser import Seen, assert_stayed_offline_and_clean, keep_screenshot
from kizuna.tests.pages.test_supervisor_http import SUPERVISOR, status_of, waiting_approval

pytestmark = pytest.mark.usefixtures("case_work_removed", "published")
GRANTED = f"test-user:{uuid.uuid4()}:teacher"  # the user the form grants a membership to


async def _remove_granted(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "DELETE FROM kizuna.membership m USING kizuna.app_user u WHERE u.id = m.user_id AND u.subject = $1", GRANTED
    )
    await conn.execute("DELETE FROM kizuna.app_user WHERE subject = $1", GRANTED)


@pytest.fixture
def case_work_removed(janitor: Janitor) -> Iterator[None]:
    """What `fresh` and `tidy` (tests/conftest.py) do, for a test that drives Chromium, and
    the user the desk's form granted a membership to."""
    try:
        with rows_and_events_removed(janitor, CASE_WORK_TABLES):
            yield
    finally:
        janitor.wait(_remove_granted)


def follow_by_keyboard(page: Page, link: Locator) -> None:
    """Tab until `link` has the focus (it must be reachable), then Enter."""
    for _ in range(12):
        page.keyboard.press("Tab")
        if link.evaluate("element => element === document.activeElement"):
            break
    page.keyboard.press("Enter")


def grant_a_teacher(page: Page, capsys: pytest.CaptureFixture[str]) -> None:
    """The desk's grant form, by its labels and the choices the API offers."""
    form = page.locator(".grant-form")
    form.get_by_label("氏名（一覧に表示する名前）").fill("試験 先生")
    form.get_by_label("利用者ID（IdPの sub）").fill(GRANTED)
    form.get_by_label("役割").select_option(label="学校教職員")
    form.get_by_label("所属機関").select_option(index=1)
    keep_screenshot(page, "supervisor-desk-grant.png", capsys)
    form.get_by_role("button", name="付与する").click()
    expect(page.locator("h1")).to_have_text("スーパーバイザーの確認")
    expect(page.locator("#memberships-heading + table tbody")).to_contain_text(GRANTED)


def test_a_supervisor_approves_rejects_with_a_reason_and_reads_the_audit_log(
    browse: tuple[Page, Seen],
    server: Any,
    axe: Axe,
    graphql: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    approved, rejected = waiting_approval(graphql), waiting_approval(graphql)
    page, seen = browse
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet, upright
    page.goto(f"{server.url}/")
    page.locator('a[href="/auth/login"]').click()
    page.locator(f'button[name="subject"][value="{SUPERVISOR}"]').click()
    page.wait_for_url(f"{server.url}/")
    desk_link = page.locator('.site-nav a[href="/desk"]')
    follow_by_keyboard(page, desk_link)
    expect(page.locator("h1")).to_have_text("スーパーバイザーの確認")
    expect(desk_link).to_have_attribute("aria-current", "page")
    keep_screenshot(page, "supervisor-desk.png", capsys)
    assert axe.violations(page) == [], "the desk"

    page.locator(f"#approval-{approved}").get_by_role("button", name="承認する").click()
    expect(page.locator(f"#approval-{approved}")).to_have_count(0)
    assert status_of(graphql, approved) == ("APPROVED", None)

    item = page.locator(f"#approval-{rejected}")
    item.get_by_role("button", name="差し戻す").click()
    reason_field = page.locator(f"#approval-{rejected}").get_by_label("所見・差戻しの理由（差戻しでは必須）")
    expect(reason_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#approval-{rejected} .field-error")).not_to_be_empty()
    keep_screenshot(page, "supervisor-desk-error.png", capsys)
    # Answered 400 (nothing was decided), which Chromium reports; the only error expected.
    assert seen.errors == ["console: Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    seen.errors.clear()
    assert axe.violations(page) == [], "the desk with a field's message"
    reason_field.fill("目標を具体的に書いてください。")
    page.locator(f"#approval-{rejected}").get_by_role("button", name="差し戻す").click()
    expect(page.locator(f"#approval-{rejected}")).to_have_count(0)
    assert status_of(graphql, rejected) == ("REJECTED", "目標を具体的に書いてください。")

    page.get_by_role("link", name="監査記録を見る").click()
    expect(page.locator("h1")).to_have_text("監査記録")
    page.get_by_label("操作（例: case.move）").fill("approval.decide")
    page.get_by_label("対象のID").fill(rejected)
    page.get_by_role("button", name="絞り込む").click()
    rows = page.locator(".audit-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("approval.decide")
    expect(rows.first).to_contain_text(rejected)
    keep_screenshot(page, "supervisor-audit.png", capsys)
    assert axe.violations(page) == [], "the audit log"

    page.locator('.site-nav a[href="/desk"]').click()
    grant_a_teacher(page, capsys)
    assert_stayed_offline_and_clean(seen, server.url)
