"""The header's navigation over HTTP with real sessions: one pattern for every role (a
`nav` named メニュー with a list of links), each role's own links only, and the page
being shown marked with `aria-current` ("page" for its own link, "true" for the link
a page belongs to)."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

KAWAGOE = "112011"


def navigation(page: str) -> list[tuple[str, str | None]]:
    """Each link of the header's one navigation: its address and its `aria-current`."""
    (nav,) = re.findall(r'<nav class="site-nav" aria-label="メニュー">(.*?)</nav>', page, re.S)
    assert page.count('class="site-nav"') == 1
    links = re.findall(r'<li><a class="site-nav__link" href="([^"]+)"(?: aria-current="([^"]+)")?>[^<]+</a></li>', nav)
    return [(href, current or None) for href, current in links]


@pytest.mark.parametrize(
    ("subject", "path", "expected"),
    [
        (f"demo:supervisor:{KAWAGOE}", "/desk", [("/", None), ("/desk", "page")]),
        (f"demo:supervisor:{KAWAGOE}", "/desk/audit", [("/", None), ("/desk", "true")]),
        (f"demo:supervisor:{KAWAGOE}", "/", [("/", "page"), ("/desk", None)]),
        (f"demo:school_staff:{KAWAGOE}", "/referrals/new", [("/referrals/new", "page"), ("/referrals", None)]),
        (f"demo:school_staff:{KAWAGOE}", "/referrals", [("/referrals/new", None), ("/referrals", "page")]),
        (f"demo:caseworker:{KAWAGOE}", "/inbox", [("/inbox", "page")]),
        (f"demo:caseworker:{KAWAGOE}", "/", [("/inbox", "page")]),  # a caseworker's home is the inbox
        ("demo:prefecture_analyst:110001", "/", [("/", "page")]),
    ],
)
def test_each_role_has_its_own_links_in_one_pattern_the_current_page_marked(
    browser_as: Callable[[str], httpx.Client],
    request: pytest.FixtureRequest,
    subject: str,
    path: str,
    expected: list[tuple[str, str | None]],
) -> None:
    if path == "/":  # the dashboard shows the published figures
        request.getfixturevalue("published")
    page = browser_as(subject).get(path)
    assert page.status_code == 200, page.text
    assert navigation(page.text) == expected
