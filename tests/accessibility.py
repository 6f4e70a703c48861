"""The accessibility check of Kizuna's pages in a real browser: axe-core (Deque's rules for
WCAG 2.x, from npm) runs in the page as it is shown, and a serious or critical violation
fails the test.

axe-core is pinned in tests/axe/package-lock.json and installed by `npm ci` once per test
session (skipped with the reason without npm; .ci/run installs it). It is loaded through
the DevTools protocol (`page.evaluate`), not as a script of the page, so the page's own
Content-Security-Policy stays what it is in production.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

PACKAGE_DIR = Path(__file__).resolve().parent / "axe"
INSTALL_TIMEOUT = 600
# WCAG 2.1 A and AA, what 「みんなの公共サイト運用ガイドライン」 asks of a public service's pages.
STANDARDS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = frozenset({"serious", "critical"})


@dataclass(frozen=True)
class Axe:
    source: str

    def violations(self, page: Page) -> list[str]:
        """The page's serious and critical violations, one line each (rule, impact, what to
        fix, where), or an empty list."""
        page.evaluate(self.source)
        results: dict[str, Any] = page.evaluate(
            "options => axe.run(document, options)", {"runOnly": {"type": "tag", "values": STANDARDS}}
        )
        return [
            f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'])}"
            for v in results["violations"]
            if v["impact"] in FAILING_IMPACTS
        ]


def install(target: Path) -> Axe:
    """axe-core installed from the pinned lock into `target`; pytest.skip without npm."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm not found on PATH: axe-core comes from npm (.ci/run installs nodejs and npm)")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(PACKAGE_DIR / name, target / name)
    installed = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return Axe((target / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8"))
